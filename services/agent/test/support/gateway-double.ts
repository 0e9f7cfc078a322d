import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  ContractError,
  executeAction,
  getAction,
  reportTaskProgress,
  type RpcContract,
  type RpcRequest,
  type RpcResponse,
  type TaskEvent,
} from '@heroagent/contracts';

type Answer<C extends RpcContract> = RpcResponse<C> | ContractError;
type Script<C extends RpcContract> = (request: RpcRequest<C>) => Answer<C> | Promise<Answer<C>>;

/**
 * A double of the gateway's side of the agent's subjects, on a real NATS server, speaking Nest's
 * packet format: it validates what the agent sends against the contracts (a request outside them
 * fails the test), records it, and answers from the test's script.
 */
export class GatewayDouble {
  readonly executes: RpcRequest<typeof executeAction>[] = [];
  readonly gets: RpcRequest<typeof getAction>[] = [];
  readonly events: TaskEvent[] = [];
  /** Requests that did not match their contract (the agent is wrong if any arrive). */
  readonly malformed: { subject: string; issues: string }[] = [];
  onExecute: Script<typeof executeAction> = () =>
    new ContractError('UNAVAILABLE', 'no execute script');
  onGet: Script<typeof getAction> = () => new ContractError('NOT_FOUND', 'no such action');
  /** What a report is answered with: the task still runs, unless a test says otherwise. */
  running = true;
  private readonly subscriptions: Subscription[] = [];

  private constructor(private readonly connection: NatsConnection) {}

  static async start(url: string): Promise<GatewayDouble> {
    const double = new GatewayDouble(await connect({ servers: url }));
    double.serve(executeAction, (request) => {
      double.executes.push(request);
      return double.onExecute(request);
    });
    double.serve(getAction, (request) => {
      double.gets.push(request);
      return double.onGet(request);
    });
    double.serve(reportTaskProgress, (request) => {
      double.events.push(...request.events);
      return { recorded: request.events.length, running: double.running };
    });
    await double.connection.flush();
    return double;
  }

  /** The timeline of one task, in order, each seq once. */
  timeline(): TaskEvent[] {
    const bySeq = new Map(this.events.map((event) => [event.seq, event]));
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  kinds(): string[] {
    return this.timeline().map((event) => event.kind);
  }

  /** Waits until the task reported how it ended. */
  async ended(timeoutMs = 10_000): Promise<TaskEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.events.find((event) =>
        ['finished', 'failed', 'stopped'].includes(event.kind),
      );
      if (end !== undefined) return end;
      if (Date.now() > deadline) {
        throw new Error(`the task did not end; timeline so far: ${this.kinds().join(', ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async close(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await this.connection.drain();
  }

  private serve<C extends RpcContract>(contract: C, answer: Script<C>): void {
    const subscription = this.connection.subscribe(contract.subject, {
      callback: (error, message) => {
        if (error !== null) return;
        void (async () => {
          const packet = message.json<{ id?: string; data?: unknown }>();
          const parsed = contract.request.safeParse(packet.data);
          let reply: object;
          if (!parsed.success) {
            this.malformed.push({ subject: contract.subject, issues: parsed.error.message });
            reply = { err: { code: 'INVALID_REQUEST', message: 'outside the contract' } };
          } else {
            const result = await answer(parsed.data as RpcRequest<C>);
            reply =
              result instanceof ContractError ? { err: result.toBody() } : { response: result };
          }
          message.respond(JSON.stringify({ id: packet.id, isDisposed: true, ...reply }));
        })();
      },
    });
    this.subscriptions.push(subscription);
  }
}
