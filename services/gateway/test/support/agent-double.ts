import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  agentTaskStopped,
  ContractError,
  listModelProviders,
  reportTaskProgress,
  startAgentTask,
  stopAgentTask,
  type ModelProvider,
  type RpcContract,
  type RpcRequest,
  type RpcRequestInput,
  type RpcResponse,
  type TaskEvent,
} from '@heroagent/contracts';
import { ContractClient, inboxPrefixOf, natsEnvSchema } from '@heroagent/service';

type StartRequest = RpcRequest<typeof startAgentTask>;
type StopRequest = RpcRequest<typeof stopAgentTask>;

/** The providers the double offers unless a test says otherwise: one of each kind. */
export const OFFERED_PROVIDERS: ModelProvider[] = [
  {
    id: 'local',
    name: 'Local',
    location: 'local',
    model: 'llama-3.1-8b',
    trainsOnCustomerData: false,
  },
  {
    id: 'hosted-eu',
    name: 'Hosted EU',
    location: 'cloud',
    model: 'big-1',
    trainsOnCustomerData: false,
  },
  {
    id: 'cheap-cloud',
    name: 'Cheap Cloud',
    location: 'cloud',
    model: 'c-1',
    trainsOnCustomerData: true,
  },
];

/** What a raw NATS request was answered with (Nest's wire format). */
export interface RawReply {
  readonly response?: unknown;
  readonly err?: { code: string; message: string };
}

/**
 * A test double of the agent service as the gateway sees it, on the test's own nats-server:
 * it answers `agent.tasks.start`, `agent.tasks.stop` and `agent.models.list` in Nest's wire
 * format with the contracts' schemas, answers as a test scripts it (or not at all while `down`),
 * and records what it was sent. It also reports to `gateway.tasks.report` as the agent would:
 * through a contract client, or as raw NATS messages that no client would validate first.
 */
export class AgentDouble {
  readonly starts: StartRequest[] = [];
  readonly stops: StopRequest[] = [];
  /** The answer to `agent.tasks.start`; throw a ContractError to refuse the task. */
  onStart: (request: StartRequest) => RpcResponse<typeof startAgentTask> = () => ({
    accepted: true,
    model: { providerId: 'local', model: 'llama-3.1-8b', location: 'local' },
  });
  providers: ModelProvider[] = [...OFFERED_PROVIDERS];
  defaultProviderId: string | null = 'local';
  /** While true, no request is answered (the caller times out, as if no agent were running). */
  down = false;
  private readonly subscriptions: Subscription[] = [];

  private constructor(
    private readonly nats: NatsConnection,
    /** The agent's own client to the gateway (reports, actions). */
    readonly toGateway: ContractClient,
  ) {}

  static async start(natsUrl: string): Promise<AgentDouble> {
    const nats = await connect({ servers: natsUrl, inboxPrefix: inboxPrefixOf('agent') });
    const client = ContractClient.create(natsEnvSchema.parse({ NATS_URL: natsUrl }), 'agent');
    await client.connect();
    const double = new AgentDouble(nats, client);
    double.serve(startAgentTask, (request) => {
      double.starts.push(request);
      return double.onStart(request);
    });
    double.serve(stopAgentTask, (request) => {
      double.stops.push(request);
      return { stopped: true };
    });
    // The gateway announces stops to every replica (agent.tasks.stopped).
    double.subscriptions.push(
      nats.subscribe(agentTaskStopped.subjectPattern, {
        callback: (_error, message) => {
          const parsed = agentTaskStopped.payload.safeParse(message.json());
          if (parsed.success) double.stops.push(parsed.data);
        },
      }),
    );
    double.serve(listModelProviders, () => ({
      providers: double.providers,
      defaultProviderId: double.defaultProviderId,
    }));
    return double;
  }

  /** Reports events of a task under its capability, as the agent does. */
  report(capability: string, events: TaskEvent[]): Promise<RpcResponse<typeof reportTaskProgress>> {
    return this.toGateway.request(reportTaskProgress, {
      capability,
      events,
    } satisfies RpcRequestInput<typeof reportTaskProgress>);
  }

  /** Sends anything to `gateway.tasks.report`, unvalidated, and returns the raw reply. */
  async reportRaw(body: unknown): Promise<RawReply> {
    const reply = await this.nats.request(reportTaskProgress.subject, JSON.stringify(body), {
      timeout: 5000,
    });
    return reply.json<RawReply>();
  }

  /** Waits until a task's stop was announced (it is sent after the stop answered). */
  async stopOf(taskId: string, timeoutMs = 3000): Promise<StopRequest | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.stops.find((stop) => stop.taskId === taskId);
      if (found !== undefined || Date.now() > deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async close(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await this.toGateway.close();
    await this.nats.close();
  }

  private serve<C extends RpcContract>(
    contract: C,
    handle: (request: RpcRequest<C>) => RpcResponse<C>,
  ): void {
    const subscription = this.nats.subscribe(contract.subject, {
      callback: (_error, message) => {
        if (this.down) return;
        const packet = message.json<{ id?: string; data?: unknown }>();
        const reply = (body: object) =>
          message.respond(JSON.stringify({ ...body, id: packet.id, isDisposed: true }));
        try {
          const parsed = contract.request.safeParse(packet.data);
          if (!parsed.success) throw new ContractError('INVALID_REQUEST', parsed.error.message);
          reply({ response: handle(parsed.data as RpcRequest<C>) });
        } catch (error) {
          reply({
            err:
              error instanceof ContractError
                ? error.toBody()
                : { code: 'INTERNAL', message: String(error) },
          });
        }
      },
    });
    this.subscriptions.push(subscription);
  }
}
