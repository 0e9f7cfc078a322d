import { Writable } from 'node:stream';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { signedAuditEventSchema, type SignedAuditEvent } from '@heroagent/contracts';
import {
  exportEd25519Seed,
  exportX25519PrivateKey,
  generateSealingKey,
  generateSigningKey,
  toBase64Url,
  type SigningKey,
} from '@heroagent/crypto';
import type { MigrationRoles } from '@heroagent/db';
import { createTestDatabase, type TestDatabase } from '@heroagent/db/testing';
import {
  CalendarDouble,
  GmailDouble,
  OidcProviderDouble,
  type OidcDoubleUser,
} from '@heroagent/doubles';
import { freePort, startNatsServer, type TestNatsServer } from '@heroagent/service/testing';
import { createLogger } from '@heroagent/telemetry';
import { migrations } from '../../migrations/index.js';
import { GATEWAY_JOBS, gatewayConfigSchema } from '../../src/config.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';
import { Housekeeping } from '../../src/housekeeping.js';
import {
  openPersonalFields,
  type OpenedPersonalFields,
} from '../../src/privacy/personal-fields.js';
import { PersonalKeys } from '../../src/privacy/personal-keys.js';
import { TestBrowser } from '@heroagent/doubles';
import { RoundRobinProxy } from './round-robin-proxy.js';
import { VaultProxyDouble } from './vault-proxy-double.js';

export const GMAIL_READ = 'https://www.googleapis.com/auth/gmail.readonly';
export const CALENDAR_READ = 'https://www.googleapis.com/auth/calendar.readonly';

/** A session as GET /v1/session shows it. */
export interface SessionView {
  user: { id: string; email: string; displayName: string | null };
  tenant: { id: string; name: string; role: string } | null;
  csrfToken: string;
}

/**
 * The gateway on its own Postgres database and nats-server (with JetStream), signing in against
 * an OpenID Connect provider double (as Google and as a generic OIDC provider), with a
 * vault-proxy double on NATS and a JetStream stream standing in for audit's.
 */
export interface GatewayFixture {
  readonly origin: string;
  readonly gateway: RunningGateway;
  /**
   * Stops the gateway (its outbox left as it is) and starts another on the same database and
   * NATS, as after a crash and a restart; `between` runs while none is running.
   */
  restartGateway(between?: () => Promise<void>): Promise<void>;
  /**
   * Every running replica (the first is `gateway`). With `replicas: 2` they share the database
   * and NATS, each listens on a port of its own, and `origin` is a round-robin proxy before them.
   */
  readonly replicas: readonly RunningGateway[];
  /** The load balancer double before the replicas (with `replicas: 2`). */
  readonly proxy: RoundRobinProxy | undefined;
  /** The JetStream stream standing in for audit's: delete it, and nothing can be published. */
  readonly auditStream: { remove(): Promise<void>; create(): Promise<void> };
  /** Every line the gateway logged. */
  readonly logs: string[];
  readonly provider: OidcProviderDouble;
  readonly vault: VaultProxyDouble;
  /** Gmail and Calendar: every access token vault-proxy's double issues is valid there. */
  readonly gmail: GmailDouble;
  readonly calendar: CalendarDouble;
  readonly database: TestDatabase;
  /** The gateway's Postgres roles by purpose: `runtime`, `relay`, `sweeper`. */
  readonly databaseRoles: MigrationRoles;
  readonly nats: TestNatsServer;
  readonly gatewaySigning: SigningKey;
  /** Signs `user` in with a fresh browser (or the given one); returns the browser and session. */
  signIn(
    user: OidcDoubleUser,
    options?: { browser?: TestBrowser; provider?: 'google' | 'oidc'; invitation?: string },
  ): Promise<{ browser: TestBrowser; session: SessionView }>;
  /** GET /v1/session for a browser. */
  session(browser: TestBrowser): Promise<SessionView>;
  /** A JSON request with the session's CSRF token (GET without). */
  call(
    browser: TestBrowser,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>;
  /** The session cookie's name. */
  readonly sessionCookie: string;
  /** The signed audit events the gateway published so far. */
  auditEvents(): Promise<SignedAuditEvent[]>;
  /**
   * The same, each with its personal fields opened back into `rationale` and `policy.reason`
   * (and `personal` dropped), as a viewer the gateway lets see them would read them.
   */
  openedAuditEvents(): Promise<SignedAuditEvent[]>;
  close(): Promise<void>;
}

const STREAM = 'GATEWAY_TEST_AUDIT';

/** Stops following redirects when one leaves the API for a page of the site (the return path). */
export function leavesTheApi(origin: string): (location: URL) => boolean {
  return (location) => location.origin === origin && !location.pathname.startsWith('/v1/');
}

export async function startGatewayFixture(
  env: Record<string, string> = {},
  options: { replicas?: 1 | 2 } = {},
): Promise<GatewayFixture> {
  const database = await createTestDatabase();
  const nats = await startNatsServer({ jetstream: true });
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const provider = await OidcProviderDouble.start({
    redirectUris: [
      `${origin}/v1/auth/google/callback`,
      `${origin}/v1/auth/oidc/callback`,
      `${origin}/v1/connections/google/callback`,
    ],
  });
  const raw: NatsConnection = await connect({ servers: nats.url });
  const manager = await jetstreamManager(raw);
  const createStream = async () => {
    await manager.streams.add({ name: STREAM, subjects: ['audit.events.*'] });
  };
  await createStream();
  const gatewaySigning = generateSigningKey();
  const gatewaySealing = generateSealingKey();
  const vault = await VaultProxyDouble.start(
    nats.url,
    gatewaySigning,
    gatewaySealing.publicKey,
    provider,
  );
  const gmail = await GmailDouble.start();
  const calendar = await CalendarDouble.start();
  vault.onIssue = (token, scopes, connection) => {
    gmail.allowToken(token, scopes, connection.account);
    calendar.allowToken(token, scopes, connection.account);
  };
  // The migrate step, as the owner; the gateway itself gets only its runtime and job roles.
  const service = await database.provisionService('gateway', { jobs: GATEWAY_JOBS });
  await service.migrate(migrations);
  const config = gatewayConfigSchema.parse({
    HEROAGENT_ENV: 'test',
    DATABASE_URL: service.runtimeUrl,
    DATABASE_RELAY_URL: service.jobUrls.relay,
    DATABASE_SWEEPER_URL: service.jobUrls.sweeper,
    NATS_URL: nats.url,
    NATS_REQUEST_TIMEOUT_MS: '2000',
    HTTP_PORT: String(port),
    PUBLIC_URL: origin,
    SERVICE_SIGNING_KEY: toBase64Url(exportEd25519Seed(gatewaySigning.privateKey)),
    SERVICE_SEALING_KEY: toBase64Url(exportX25519PrivateKey(gatewaySealing.privateKey)),
    OAUTH_GOOGLE_CLIENT_ID: provider.clientId,
    OAUTH_GOOGLE_AUTHORIZE_URL: provider.authorizeUrl,
    OIDC_ISSUER: provider.issuer,
    OIDC_CLIENT_ID: provider.clientId,
    OIDC_CLIENT_SECRET: provider.clientSecret,
    OIDC_DISPLAY_NAME: 'Company SSO',
    OAUTH_TIMEOUT_MS: '3000',
    GMAIL_API_ROOT_URL: gmail.rootUrl,
    CALENDAR_API_ROOT_URL: calendar.rootUrl,
    PROVIDER_TIMEOUT_MS: '3000',
    HTTP_TRUST_PROXY_HOPS: '1',
    ...env,
  });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ service: 'gateway', level: 'debug', destination });
  let gateway: RunningGateway;
  const replicas: RunningGateway[] = [];
  let proxy: RoundRobinProxy | undefined;
  if ((options.replicas ?? 1) === 1) {
    gateway = await startGateway(config, logger);
    replicas.push(gateway);
  } else {
    // Each replica on a port of its own; people reach them through the proxy at the origin.
    for (let index = 0; index < options.replicas!; index += 1) {
      const own = { ...config, http: { ...config.http, port: await freePort() } };
      replicas.push(await startGateway(own, logger));
    }
    gateway = replicas[0]!;
    proxy = await RoundRobinProxy.start(
      port,
      replicas.map((replica) => replica.url),
    );
  }
  const sessionCookie = config.http.secureCookies
    ? '__Host-heroagent_session'
    : 'heroagent_session';

  const fixture: GatewayFixture = {
    origin,
    get gateway() {
      return gateway;
    },
    replicas,
    proxy,
    async restartGateway(between) {
      if (replicas.length > 1) throw new Error('restartGateway is for one replica');
      await gateway.close();
      await between?.();
      gateway = await startGateway(config, logger);
      replicas[0] = gateway;
    },
    auditStream: {
      async remove() {
        await manager.streams.delete(STREAM);
      },
      create: createStream,
    },
    logs,
    provider,
    vault,
    gmail,
    calendar,
    database,
    databaseRoles: service.roles,
    nats,
    gatewaySigning,
    sessionCookie,
    async signIn(user, options = {}) {
      const browser = options.browser ?? new TestBrowser();
      provider.nextUser(user);
      const query = new URLSearchParams({ returnTo: '/welcome' });
      if (options.invitation !== undefined) query.set('invitation', options.invitation);
      const last = await browser.follow(
        `${origin}/v1/auth/${options.provider ?? 'google'}/start?${query.toString()}`,
        leavesTheApi(origin),
      );
      if (last.status !== 303 || last.headers.get('location') !== '/welcome') {
        throw new Error(`sign-in did not finish: ${last.status} ${await last.text()}`);
      }
      return { browser, session: await fixture.session(browser) };
    },
    async session(browser) {
      const response = await browser.fetch(`${origin}/v1/session`);
      if (response.status !== 200) {
        throw new Error(`no session: ${response.status} ${await response.text()}`);
      }
      return (await response.json()) as SessionView;
    },
    async call(browser, method, path, body, headers = {}) {
      const extra: Record<string, string> = { ...headers };
      if (method !== 'GET' && extra['x-csrf-token'] === undefined) {
        const current = await browser.fetch(`${origin}/v1/session`);
        if (current.status === 200) {
          extra['x-csrf-token'] = ((await current.json()) as SessionView).csrfToken;
        }
      }
      return browser.fetch(`${origin}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...extra,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    },
    async auditEvents() {
      for (const replica of replicas) {
        const relay = replica.app.get(Housekeeping).relay;
        relay.nudge();
        await relay.flush();
      }
      const consumer = await jetstream(raw).consumers.get(STREAM);
      const events: SignedAuditEvent[] = [];
      const info = await manager.streams.info(STREAM);
      if (info.state.messages === 0) return events;
      const batch = await consumer.fetch({ max_messages: info.state.messages, expires: 2000 });
      for await (const message of batch) {
        events.push(signedAuditEventSchema.parse(message.json()));
        if (events.length >= info.state.messages) break;
      }
      return events;
    },
    async openedAuditEvents() {
      const events = await this.auditEvents();
      // Each tenant's events opened as a viewer of that tenant would have them opened.
      const opened = new Map<string, OpenedPersonalFields>();
      for (const tenantId of new Set(events.map((signed) => signed.event.tenantId))) {
        const ofTenant = await openPersonalFields(
          replicas[0]!.app.get(PersonalKeys),
          events.map((signed) => signed.event),
          tenantId,
        );
        for (const [id, fields] of ofTenant) opened.set(id, fields);
      }
      return events.map((signed) => {
        const fields = opened.get(signed.event.id);
        const { personal: _sealed, ...event } = signed.event;
        if (fields === undefined || fields === 'erased') return { ...signed, event };
        return {
          ...signed,
          event: {
            ...event,
            ...(fields.rationale === undefined ? {} : { rationale: fields.rationale }),
            ...(event.policy === undefined || fields.policyReason === undefined
              ? {}
              : { policy: { ...event.policy, reason: fields.policyReason } }),
          },
        };
      });
    },
    async close() {
      await proxy?.close();
      for (const replica of replicas) await replica.close();
      await vault.close();
      await gmail.close();
      await calendar.close();
      await raw.close();
      await provider.close();
      await nats.stop();
      await database.drop();
    },
  };
  return fixture;
}
