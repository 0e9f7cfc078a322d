import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { executeAction, getAction, type RpcResponse } from '@heroagent/contracts';

/** What the gateway answered one raw request with: its response, or the code it refused with. */
export type Answer<T> =
  | { readonly ok: true; readonly response: T }
  | { readonly ok: false; readonly code: string; readonly message: string };

export type ExecuteAnswer = Answer<RpcResponse<typeof executeAction>>;
export type ActionStanding = RpcResponse<typeof getAction>;

/**
 * An attacker holding the agent service's NATS credential (user `agent` of deploy/nats) and real
 * task capabilities. It speaks raw NATS — JSON bodies, no contract client validating anything
 * first — on the only subjects its user may publish to, and never slows itself down: every
 * request gets a fresh idempotency key unless it says otherwise.
 */
export class HostileAgent {
  private constructor(private readonly nats: NatsConnection) {}

  /** Connects to `url` (several, comma-separated: any node of a cluster). */
  static async connect(url: string, password: string): Promise<HostileAgent> {
    const nats = await connect({
      servers: url.split(',').map((server) => server.trim()),
      user: 'agent',
      pass: password,
      // The agent user may subscribe to its own reply inbox only.
      inboxPrefix: '_INBOX.agent',
      name: 'hostile-agent',
    });
    return new HostileAgent(nats);
  }

  /** `gateway.actions.execute` with any body, as raw JSON; the gateway's answer unpacked. */
  async raw<T>(subject: string, body: unknown, timeoutMs = 60_000): Promise<Answer<T>> {
    const reply = await this.nats.request(subject, JSON.stringify(body), { timeout: timeoutMs });
    const packet = reply.json<{ response?: T; err?: { code: string; message: string } }>();
    if (packet.err !== undefined) {
      return { ok: false, code: packet.err.code, message: packet.err.message };
    }
    return { ok: true, response: packet.response as T };
  }

  /** Asks for one action under a capability, with a new idempotency key unless given one. */
  act(
    capability: string,
    action: string,
    params: Record<string, unknown>,
    options: { idempotencyKey?: string; untrustedParams?: string[] } = {},
  ): Promise<ExecuteAnswer> {
    return this.raw(executeAction.subject, {
      capability,
      action,
      params,
      idempotencyKey: options.idempotencyKey ?? `hostile-${randomUUID()}`,
      rationale: 'The person wants this done.',
      untrustedParams: options.untrustedParams ?? [],
    });
  }

  /** `gateway.actions.get`: where an action stands, as the gateway reports it to the agent. */
  standing(capability: string, actionId: string): Promise<Answer<ActionStanding>> {
    return this.raw(getAction.subject, { capability, actionId });
  }

  /** The same request `count` times at once, each under its own idempotency key. */
  flood(
    count: number,
    request: (index: number) => Promise<ExecuteAnswer>,
  ): Promise<ExecuteAnswer[]> {
    return Promise.all(Array.from({ length: count }, (_, index) => request(index)));
  }

  async close(): Promise<void> {
    await this.nats.close();
  }
}

/** The answers split into what was admitted (by action id) and the codes of the refusals. */
export function tally(answers: readonly ExecuteAnswer[]): {
  admitted: RpcResponse<typeof executeAction>[];
  refusals: Record<string, number>;
} {
  const admitted: RpcResponse<typeof executeAction>[] = [];
  const refusals: Record<string, number> = {};
  for (const answer of answers) {
    if (answer.ok) admitted.push(answer.response);
    else refusals[answer.code] = (refusals[answer.code] ?? 0) + 1;
  }
  return { admitted, refusals };
}
