import { z } from 'zod';

/**
 * Every error code that may cross a service boundary. A transport maps each one exhaustively
 * (HTTP status, NATS reply), so adding a code here fails to compile until every mapper knows it.
 */
export const ERROR_CODES = [
  // Any RPC may answer with these.
  'INVALID_REQUEST',
  'INTERNAL',
  'UNAVAILABLE',
  'TIMEOUT',
  // Identity and authority.
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'SIGNATURE_INVALID',
  'CAPABILITY_INVALID',
  'CAPABILITY_EXPIRED',
  'CAPABILITY_REVOKED',
  'TENANT_PAUSED',
  // Actions and policy.
  'ACTION_UNKNOWN',
  'ACTION_NOT_ALLOWED',
  'POLICY_DENIED',
  'IDEMPOTENCY_CONFLICT',
  'RATE_LIMITED',
  // Resources.
  'NOT_FOUND',
  'CONFLICT',
  // Connections and providers.
  'CONNECTION_NOT_FOUND',
  'CONNECTION_REVOKED',
  'SCOPE_NOT_GRANTED',
  'PROVIDER_UNAVAILABLE',
  'UPSTREAM_FAILED',
  // The provider refused the refresh token (invalid_grant): the person must connect again.
  'CONNECTION_BROKEN',
  // Vault (or the embedded secrets store) is sealed or unreachable: fail closed.
  'SECRETS_UNAVAILABLE',
  // No model the tenant allows is configured or reachable.
  'MODEL_UNAVAILABLE',
  // The HTTP edge.
  'CSRF_INVALID',
  'OAUTH_STATE_INVALID',
  'OAUTH_DENIED',
  'INVITATION_INVALID',
] as const;

/** A code from {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes that any RPC may return, whatever its contract lists. */
export const TRANSPORT_ERROR_CODES = [
  'INVALID_REQUEST',
  'INTERNAL',
  'UNAVAILABLE',
  'TIMEOUT',
] as const;

/** One reason a message failed validation: where, and what was wrong. */
export const validationIssueSchema = z.object({
  path: z.string(),
  message: z.string(),
});
export type ValidationIssue = z.infer<typeof validationIssueSchema>;

/** The body of every error that crosses NATS or HTTP: a code, a human sentence, and for bad input the issues. */
export const rpcErrorSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  issues: z.array(validationIssueSchema).optional(),
});
export type RpcErrorBody = z.infer<typeof rpcErrorSchema>;

/**
 * The exception every HeroAgent service throws for an expected failure. Its `code` is what the
 * caller sees; its message must never contain a secret or a stack trace.
 */
export class ContractError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: readonly ValidationIssue[],
  ) {
    super(message);
    this.name = 'ContractError';
  }

  /** The wire form of this error. */
  toBody(): RpcErrorBody {
    return this.issues === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, issues: [...this.issues] };
  }

  /** Rebuilds an error received over the wire; anything unrecognisable becomes INTERNAL. */
  static fromBody(body: unknown): ContractError {
    const parsed = rpcErrorSchema.safeParse(body);
    if (!parsed.success)
      return new ContractError('INTERNAL', 'the service answered with an unrecognised error');
    return new ContractError(parsed.data.code, parsed.data.message, parsed.data.issues);
  }
}

/** Turns zod issues into the wire form: a dotted path and a message, nothing of the input echoed. */
export function toValidationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.'),
    message: issue.message,
  }));
}
