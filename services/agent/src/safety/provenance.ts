import type { ActionDefinition, CapabilityLimits } from '@heroagent/contracts';

/** A parameter of an action that decides where something goes or what it costs. */
interface SensitiveParam {
  readonly path: string;
  readonly kind: 'recipient' | 'amount' | 'destination';
  readonly values: readonly string[];
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

/** The recipients, amounts and destinations among an action's (parsed) parameters. */
export function sensitiveParams(
  action: ActionDefinition,
  params: Record<string, unknown>,
): SensitiveParam[] {
  if (action.class === 'read') return [];
  const found: SensitiveParam[] = [];
  for (const path of ['to', 'cc', 'bcc', 'attendees']) {
    const values = strings(params[path]);
    if (values.length > 0) found.push({ path, kind: 'recipient', values });
  }
  const changes = params['changes'];
  if (typeof changes === 'object' && changes !== null) {
    const values = strings((changes as Record<string, unknown>)['attendees']);
    if (values.length > 0) found.push({ path: 'changes.attendees', kind: 'recipient', values });
  }
  if (typeof params['amountMinor'] === 'number') {
    found.push({ path: 'amountMinor', kind: 'amount', values: [String(params['amountMinor'])] });
  }
  if (typeof params['merchant'] === 'string') {
    found.push({ path: 'merchant', kind: 'destination', values: [params['merchant']] });
  }
  return found;
}

/**
 * Where the values an action would use came from. The person's request (and the limits they set
 * on the task) are trusted; everything else — what the agent read in a mail or an event, or what
 * the model made up — is not. A side effect that sends to, pays or goes to an untrusted value is
 * marked, and the gateway holds it for a person's approval whatever the policy allows: content
 * the agent reads can steer what it drafts, but never, on its own, where it goes or what it costs.
 */
export class Provenance {
  private readonly request: string;
  private readonly trustedRecipients: ReadonlySet<string>;
  private readonly requestNumbers: ReadonlySet<number>;

  constructor(request: string, limits: CapabilityLimits) {
    this.request = request.toLowerCase();
    this.trustedRecipients = new Set((limits.recipients ?? []).map((r) => r.toLowerCase()));
    this.requestNumbers = new Set(
      [...this.request.matchAll(/\d+(?:[.,]\d{1,2})?/g)].map((match) =>
        Math.round(Number(match[0].replace(',', '.')) * 100),
      ),
    );
  }

  /** The parameters (by path) whose values the person did not give. */
  untrustedParams(action: ActionDefinition, params: Record<string, unknown>): string[] {
    return sensitiveParams(action, params)
      .filter((param) => param.values.some((value) => !this.trusted(param.kind, value)))
      .map((param) => param.path);
  }

  private trusted(kind: SensitiveParam['kind'], value: string): boolean {
    const lower = value.toLowerCase();
    switch (kind) {
      case 'recipient':
        return this.trustedRecipients.has(lower) || mentions(this.request, lower);
      case 'amount': {
        // "25", "25.00" or "25,00" in the request trusts 2500 minor units; "2500" alone does not.
        return this.requestNumbers.has(Number(value));
      }
      case 'destination':
        return mentions(this.request, lower) || mentions(this.request, lower.replaceAll('-', ' '));
      default: {
        const unknown: never = kind;
        throw new Error(`unknown sensitive parameter kind ${String(unknown)}`);
      }
    }
  }
}

/** Whether the text names the value as a whole word (so "bob@x.io" is not found in "bob@x.io.evil"). */
function mentions(text: string, value: string): boolean {
  if (value.length === 0) return false;
  let from = 0;
  for (;;) {
    const at = text.indexOf(value, from);
    if (at < 0) return false;
    const before = at === 0 ? '' : text[at - 1]!;
    const after = text[at + value.length] ?? '';
    if (
      !/[\p{L}\p{N}@._-]/u.test(before) &&
      !/[\p{L}\p{N}@_-]/u.test(after) &&
      !/^\.[\p{L}\p{N}]/u.test(text.slice(at + value.length, at + value.length + 2))
    ) {
      return true;
    }
    from = at + 1;
  }
}
