import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ChatModelDouble, GmailDouble, OidcProviderDouble } from '@heroagent/doubles';
import {
  freePort,
  startDeployNatsCluster,
  type DeployNatsCluster,
} from '@heroagent/service/testing';
import { HostileAgent } from '../support/hostile-agent.js';
import {
  googleDoubleEnv,
  SERVICES,
  startPlatformFixture,
  type PlatformFixture,
  type Service,
} from '../support/platform.js';
import { LoadBalancer } from './load-balancer.js';
import { RefreshWatch } from './refresh-watch.js';
import { ServiceReplica } from './replica.js';

/** How long a send waits in the outbox before a gateway replica's housekeeping releases it. */
export const BOX_SEND_WINDOW_S = 1;

/**
 * The whole platform on loopback, every part replicated: a 3-node nats-server cluster with
 * JetStream (the audit stream kept 3 times), two processes of each service, one Postgres
 * database with each service's roles, and an HTTP load balancer in front of the two gateways
 * (one public origin). Google's sign-in and Gmail, and the model, are doubles. The test speaks to
 * the gateways as people (over the balancer) and as the agent (raw NATS, the agent's identity).
 */
export class BoxPlatform {
  private constructor(
    readonly fixture: PlatformFixture,
    readonly nats: DeployNatsCluster,
    readonly balancer: LoadBalancer,
    readonly provider: OidcProviderDouble,
    readonly gmail: GmailDouble,
    readonly refreshes: RefreshWatch,
    readonly replicas: readonly ServiceReplica[],
    readonly agent: HostileAgent,
    readonly admin: pg.Pool,
    private readonly closers: { close(): Promise<void> }[],
    private readonly logDir: string,
  ) {}

  static async start(options: { replicas?: number } = {}): Promise<BoxPlatform> {
    const perService = options.replicas ?? 2;
    let nats: DeployNatsCluster | undefined;
    const fixture = await startPlatformFixture({
      nats: async () => (nats = await startDeployNatsCluster({ size: 3 })),
      auditStreamReplicas: 3,
    });
    const closers: { close(): Promise<void> }[] = [];
    const logDir = await mkdtemp(join(tmpdir(), 'heroagent-box-'));
    try {
      const gatewayPorts = await Promise.all(Array.from({ length: perService }, () => freePort()));
      const balancer = await LoadBalancer.start(gatewayPorts);
      closers.push(balancer);
      const origin = balancer.origin;
      const provider = await OidcProviderDouble.start({
        redirectUris: [
          `${origin}/v1/auth/google/callback`,
          `${origin}/v1/connections/google/callback`,
        ],
        // Short-lived access tokens: vault-proxy refreshes often, on every replica.
        accessTokenTtlS: 125,
      });
      closers.push(provider);
      const refreshes = await RefreshWatch.start(provider.tokenUrl);
      closers.push(refreshes);
      const gmail = await GmailDouble.start();
      gmail.trustTokensFrom((token) => provider.introspect(token));
      closers.push(gmail);
      const model = await ChatModelDouble.start();
      model.fallback = { text: 'Done.' };
      closers.push(model);
      const google = googleDoubleEnv(provider, origin);
      const extra: Record<Service, (index: number) => Record<string, string>> = {
        audit: () => ({ AUDIT_CHECKPOINT_INTERVAL_S: '5' }),
        'vault-proxy': () => ({
          ...google['vault-proxy'],
          OAUTH_GOOGLE_TOKEN_URL: refreshes.tokenUrl,
          TOKEN_REFRESH_MARGIN_S: '120',
        }),
        agent: () => ({ LLM_BASE_URL: `${model.url}/v1`, LLM_MODEL: 'chat-model-double' }),
        gateway: (index) => ({
          ...google.gateway,
          HTTP_PORT: String(gatewayPorts[index]),
          PUBLIC_URL: origin,
          GMAIL_API_ROOT_URL: gmail.rootUrl,
          SEND_UNDO_WINDOW_S: String(BOX_SEND_WINDOW_S),
          HTTP_TRUST_PROXY_HOPS: '1',
          NATS_REQUEST_TIMEOUT_MS: '5000',
        }),
      };
      const replicas: ServiceReplica[] = [];
      // Audit first (it registers keys and consumes), the gateways last (they need the others).
      for (const service of ['audit', 'vault-proxy', 'agent', 'gateway'] as const) {
        for (let index = 0; index < perService; index += 1) {
          const replica = new ServiceReplica(
            service,
            index,
            fixture.env(service, { LOG_LEVEL: 'info', ...extra[service](index) }),
            logDir,
          );
          replicas.push(replica);
          closers.push({ close: () => replica.stop() });
        }
      }
      await Promise.all(replicas.map((replica) => replica.start()));
      const agent = await HostileAgent.connect(
        fixture.nats.url,
        fixture.env('agent').NATS_PASSWORD!,
      );
      closers.push(agent);
      const admin = new pg.Pool({ connectionString: fixture.database.adminUrl, max: 2 });
      closers.push({ close: () => admin.end() });
      return new BoxPlatform(
        fixture,
        nats!,
        balancer,
        provider,
        gmail,
        refreshes,
        replicas,
        agent,
        admin,
        closers,
        logDir,
      );
    } catch (error) {
      for (const part of closers.reverse()) await part.close().catch(() => undefined);
      await fixture.stop();
      await rm(logDir, { recursive: true, force: true });
      throw error;
    }
  }

  get origin(): string {
    return this.balancer.origin;
  }

  replicasOf(service: Service): ServiceReplica[] {
    return this.replicas.filter((replica) => replica.service === service);
  }

  /** Brings every replica and NATS node back, as the cluster would reschedule them. */
  async heal(): Promise<void> {
    for (let node = 0; node < this.nats.urls.length; node += 1) {
      if (!this.nats.running(node)) await this.nats.restart(node);
    }
    await Promise.all(this.replicas.map((replica) => replica.start()));
  }

  /** Kills per service, and of NATS nodes. */
  kills(): Record<Service, number> {
    return Object.fromEntries(
      SERVICES.map((service) => [
        service,
        this.replicasOf(service).reduce((sum, replica) => sum + replica.kills, 0),
      ]),
    ) as Record<Service, number>;
  }

  async close(options: { keepLogs?: boolean } = {}): Promise<void> {
    for (const part of this.closers.reverse()) await part.close().catch(() => undefined);
    await this.fixture.stop();
    if (options.keepLogs !== true) await rm(this.logDir, { recursive: true, force: true });
  }

  /** Where the replicas' logs are (kept on failure). */
  get logs(): string {
    return this.logDir;
  }
}
