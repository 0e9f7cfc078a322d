import { randomUUID } from 'node:crypto';
import {
  CAPABILITY_PURPOSE,
  capabilityClaimsSchema,
  ContractError,
  type CapabilityClaims,
} from '@heroagent/contracts';
import {
  canonicalJson,
  fromBase64Url,
  signJson,
  toBase64Url,
  verifyJson,
  type JsonValue,
  type SigningKey,
} from '@heroagent/crypto';

/**
 * Capabilities: gateway-signed, short-lived grants naming tenant, person, task, action types,
 * the connected account and limits. The token is the canonical JSON of the claims and an Ed25519
 * signature over it (with a purpose, so no other signed object of the gateway passes for one).
 * This checks signature and expiry; revocation (a stopped task, a paused tenant) is the tasks
 * repository's.
 */
export class Capabilities {
  constructor(
    private readonly signingKey: SigningKey,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** `issuedAt` is the caller's clock reading, so a lifetime computed from it is exact. */
  mint(
    claims: Omit<CapabilityClaims, 'v' | 'id' | 'kid' | 'issuedAt'>,
    issuedAt: Date = this.now(),
  ): {
    token: string;
    claims: CapabilityClaims;
  } {
    const full = capabilityClaimsSchema.parse({
      ...claims,
      v: 1,
      id: randomUUID(),
      kid: this.signingKey.kid,
      issuedAt: issuedAt.toISOString(),
    });
    const signature = signJson(full, CAPABILITY_PURPOSE, this.signingKey);
    return {
      token: `${toBase64Url(Buffer.from(canonicalJson(full as unknown as JsonValue), 'utf8'))}.${signature.sig}`,
      claims: full,
    };
  }

  /**
   * The claims of a genuine, unexpired capability. CAPABILITY_INVALID for anything malformed,
   * altered or signed by another key; CAPABILITY_EXPIRED past its expiry. `claimed` is what the
   * token says even when refused (for the audit record of the refusal), if it says anything.
   * `leewayMs` accepts a capability that long past its expiry (the agent's last reports).
   */
  verify(
    token: unknown,
    options: { leewayMs?: number } = {},
  ): { claims: CapabilityClaims } | { refused: ContractError; claimed?: unknown } {
    if (typeof token !== 'string' || token.length === 0) {
      return { refused: new ContractError('CAPABILITY_INVALID', 'no capability was presented') };
    }
    const [encoded, sig, extra] = token.split('.');
    const bytes = encoded === undefined ? undefined : fromBase64Url(encoded);
    if (bytes === undefined || sig === undefined || extra !== undefined) {
      return { refused: new ContractError('CAPABILITY_INVALID', 'the capability is malformed') };
    }
    let claimed: unknown;
    try {
      claimed = JSON.parse(bytes.toString('utf8'));
    } catch {
      return { refused: new ContractError('CAPABILITY_INVALID', 'the capability is malformed') };
    }
    const parsed = capabilityClaimsSchema.safeParse(claimed);
    if (!parsed.success) {
      return {
        refused: new ContractError('CAPABILITY_INVALID', 'the capability is malformed'),
        claimed,
      };
    }
    const claims = parsed.data;
    try {
      verifyJson(claims, CAPABILITY_PURPOSE, { alg: 'Ed25519', kid: claims.kid, sig }, (kid) =>
        kid === this.signingKey.kid ? this.signingKey.publicKey : undefined,
      );
      // The signed bytes are the canonical form: a re-encoded (altered) token is refused too.
      if (canonicalJson(claims) !== bytes.toString('utf8')) throw new Error();
    } catch {
      return {
        refused: new ContractError(
          'CAPABILITY_INVALID',
          'the capability’s signature does not verify',
        ),
        claimed,
      };
    }
    if (Date.parse(claims.expiresAt) + (options.leewayMs ?? 0) <= this.now().getTime()) {
      return {
        refused: new ContractError('CAPABILITY_EXPIRED', 'the capability has expired'),
        claimed,
      };
    }
    return { claims };
  }
}
