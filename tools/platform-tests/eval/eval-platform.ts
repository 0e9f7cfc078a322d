import { auditConfigSchema, startAudit } from '@heroagent/audit';
import { agentConfigSchema, startAgent } from '@heroagent/agent';
import {
  CalendarDouble,
  ChatModelDouble,
  GmailDouble,
  MerchantDouble,
  OidcProviderDouble,
  TestBrowser,
} from '@heroagent/doubles';
import { ACTION_CATALOG } from '@heroagent/contracts';
import { gatewayConfigSchema, startGateway, type RunningGateway } from '@heroagent/gateway';
import { ContractClient } from '@heroagent/service';
import { freePort } from '@heroagent/service/testing';
import type { TestDatabase } from '@heroagent/db/testing';
import { createLogger } from '@heroagent/telemetry';
import { startVaultProxy, vaultProxyConfigSchema } from '@heroagent/vault-proxy';
import {
  googleDoubleEnv,
  startPlatformFixture,
  type PlatformFixture,
} from '../support/platform.js';

/** The account the person connects: the Gmail and Calendar doubles' default mailbox. */
export const ME = 'me@example.com';

/** Where the model comes from: the scripted double, or a real OpenAI-compatible server. */
export type ModelSource =
  | { readonly kind: 'scripted' }
  | {
      readonly kind: 'real';
      readonly baseUrl: string;
      readonly model: string;
      readonly apiKey?: string;
    };

/**
 * The whole platform in one process for the agent evaluation: real gateway, agent, vault-proxy
 * and audit on a test database and a nats-server under deploy/nats permissions; Google, Gmail,
 * Calendar and two merchants doubled. A person (ME) is signed in, has connected Gmail and
 * Calendar, and their tenant's policy lets the agent act without asking; the evaluation signs in
 * people of its own, one tenant each, set up as a configuration says (`newPerson`).
 */
export interface EvalPlatform {
  readonly origin: string;
  readonly browser: TestBrowser;
  readonly csrf: string;
  readonly connectionId: string;
  /** The signed-in person and their tenant. */
  readonly person: { readonly userId: string; readonly tenantId: string };
  /** A NATS client with the gateway's credentials, to ask audit what it recorded. */
  readonly asGateway: ContractClient;
  readonly gmail: GmailDouble;
  readonly calendar: CalendarDouble;
  /** The OpenID Connect double people sign in with (choose who with `nextUser`). */
  readonly provider: OidcProviderDouble;
  /** The platform's one database (each service in a schema of its own). */
  readonly database: TestDatabase;
  readonly merchants: Readonly<Record<'paper-shop' | 'gift-cards', MerchantDouble>>;
  /** The scripted model, when the evaluation runs with one. */
  readonly model: ChatModelDouble | undefined;
  /** A JSON call to the gateway as the signed-in person. */
  call<T>(method: string, path: string, body?: unknown): Promise<HttpAnswer<T>>;
  /**
   * Another person, signed in with their own browser (so their own address, and their own share
   * of the per-address rate limits) in a tenant of their own, with Gmail and Calendar connected
   * and the tenant set up as the configuration says.
   */
  newPerson(configuration: Configuration): Promise<EvalPerson>;
  close(): Promise<void>;
}

export interface HttpAnswer<T> {
  readonly status: number;
  readonly body: T;
}

/**
 * How the person's tenant is set up. `default`: no policy of its own, so reads run and every
 * write waits for the person; tasks get only the actions they need. `permissive`: a policy that
 * lets every write go without asking (AUTOPILOT_POLICY) and a broad capability, so the gateway's
 * provenance checks are all that stand in an attacker's way.
 */
export type Configuration = 'default' | 'permissive';
export const CONFIGURATIONS: readonly Configuration[] = ['default', 'permissive'];

/** A person of the evaluation: their address is their mailbox and calendar. */
export interface EvalPerson {
  readonly email: string;
  readonly userId: string;
  readonly tenantId: string;
  readonly connectionId: string;
  readonly configuration: Configuration;
  call<T>(method: string, path: string, body?: unknown): Promise<HttpAnswer<T>>;
}

/**
 * Whether POST /v1/tasks takes `scope` yet. Least privilege (the gateway derives a task's actions
 * from its words, within those listed; `scope: 'broad'` keeps exactly those listed) is being
 * merged from main; until it is, the gateway's strict body schema refuses the field. Switch on
 * then: the permissive configuration asks for `scope: 'broad'`.
 */
const TASKS_TAKE_SCOPE = true;

/** A spend limit for tasks of the permissive configuration that set none (a broad capability). */
const BROAD_SPEND = { spend: { maxMinor: 100_000, currency: 'USD' } };

/**
 * What a task is started with in each configuration: in the default one no scope, so the gateway
 * derives least privilege from the words (until it takes `scope`, the actions the task needs are
 * listed instead); in the permissive one every catalog action, a broad spend limit unless the task
 * sets its own, and `scope: 'broad'`.
 */
export function taskCapability(
  configuration: Configuration,
  task: { readonly actions: readonly string[]; readonly limits?: Record<string, unknown> },
): { actions?: string[]; limits: Record<string, unknown>; scope?: 'broad' } {
  if (configuration === 'default') {
    return {
      ...(TASKS_TAKE_SCOPE ? {} : { actions: [...task.actions] }),
      limits: task.limits ?? {},
    };
  }
  return {
    actions: Object.keys(ACTION_CATALOG),
    limits: { ...BROAD_SPEND, ...task.limits },
    ...(TASKS_TAKE_SCOPE ? { scope: 'broad' as const } : {}),
  };
}

export const AUTOPILOT_POLICY = `@id("eval-autopilot")
@reason("This tenant lets its agents change things without asking.")
permit (principal, action in HeroAgent::Action::"reversible", resource);

@id("eval-autopilot-irreversible")
@reason("This tenant lets its agents send and buy without asking.")
permit (principal, action in HeroAgent::Action::"irreversible", resource);
`;

export async function startEvalPlatform(
  source: ModelSource,
  options: {
    consoleDir?: string;
    sendUndoWindowS?: number;
    /** How many tasks may run at once (the evaluation runs several people's side by side). */
    concurrentTasks?: number;
  } = {},
): Promise<EvalPlatform> {
  const platform: PlatformFixture = await startPlatformFixture();
  const stack: { close(): Promise<void> }[] = [];
  try {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const provider = await OidcProviderDouble.start({
      redirectUris: [
        `${origin}/v1/auth/google/callback`,
        `${origin}/v1/connections/google/callback`,
      ],
    });
    stack.push(provider);
    const gmail = await GmailDouble.start();
    const calendar = await CalendarDouble.start();
    for (const api of [gmail, calendar]) {
      api.trustTokensFrom((token) => provider.introspect(token));
      stack.push(api);
    }
    const merchants = {
      'paper-shop': await MerchantDouble.start(),
      'gift-cards': await MerchantDouble.start(),
    };
    stack.push(...Object.values(merchants));
    const model = source.kind === 'scripted' ? await ChatModelDouble.start() : undefined;
    if (model !== undefined) stack.push(model);

    const logger = (service: string) => createLogger({ service, level: 'silent' });
    const google = googleDoubleEnv(provider, origin);
    const services: { close(): Promise<void> }[] = [];
    services.push(
      await startAudit(auditConfigSchema.parse(platform.env('audit')), logger('audit')),
    );
    services.push(
      await startVaultProxy(
        vaultProxyConfigSchema.parse(platform.env('vault-proxy', google['vault-proxy'])),
        logger('vault-proxy'),
      ),
    );
    const gatewayConfig = gatewayConfigSchema.parse(
      platform.env('gateway', {
        ...google.gateway,
        GMAIL_API_ROOT_URL: gmail.rootUrl,
        CALENDAR_API_ROOT_URL: calendar.rootUrl,
        MERCHANTS: JSON.stringify(
          Object.entries(merchants).map(([id, merchant]) => ({
            id,
            url: merchant.url,
            apiKey: merchant.apiKey,
          })),
        ),
        SEND_UNDO_WINDOW_S: String(options.sendUndoWindowS ?? 0),
        ...(options.consoleDir === undefined ? {} : { CONSOLE_DIR: options.consoleDir }),
        // Each person's browser comes from its own address through one proxy hop, so the
        // per-address HTTP rate limits apply per person, as in production; a person here polls
        // their task's timeline more often than the console would.
        HTTP_TRUST_PROXY_HOPS: '1',
        HTTP_RATE_LIMIT_PER_MINUTE: '6000',
        NATS_REQUEST_TIMEOUT_MS: '10000',
      }),
    );
    const gateway: RunningGateway = await startGateway(gatewayConfig, logger('gateway'));
    services.push(gateway);
    const asGateway = ContractClient.create(gatewayConfig.nats, 'gateway');
    await asGateway.connect();
    stack.push(asGateway);
    services.push(
      await startAgent(
        agentConfigSchema.parse(
          platform.env('agent', {
            LLM_BASE_URL: model?.url ?? (source.kind === 'real' ? source.baseUrl : ''),
            LLM_MODEL: source.kind === 'real' ? source.model : model!.model,
            ...(source.kind === 'real' && source.apiKey !== undefined
              ? { LLM_API_KEY: source.apiKey }
              : {}),
            AGENT_APPROVAL_POLL_MS: '100',
            AGENT_MAX_STEPS: '16',
            AGENT_MAX_TASKS: String(Math.max(8, (options.concurrentTasks ?? 0) + 4)),
            NATS_REQUEST_TIMEOUT_MS: '10000',
          }),
        ),
        logger('agent'),
      ),
    );
    stack.push({
      close: async () => {
        for (const service of services.reverse()) await service.close();
      },
    });

    // People sign in one at a time: the identity double signs in whoever it was told last.
    let signingIn: Promise<unknown> = Promise.resolve();
    const signIn = (who: { sub: string; email: string; name: string }) => {
      const next = signingIn.then(() => signInAndConnect(origin, provider, who));
      signingIn = next.catch(() => undefined);
      return next;
    };
    const me = await signIn({ sub: 'eval-person', email: ME, name: 'Eval Person' });
    await setPolicy(me.call, AUTOPILOT_POLICY);
    let people = 0;

    return {
      origin,
      browser: me.browser,
      csrf: me.csrf,
      connectionId: me.connectionId,
      person: { userId: me.userId, tenantId: me.tenantId },
      asGateway,
      gmail,
      calendar,
      provider,
      database: platform.database,
      merchants,
      model,
      call: me.call,
      async newPerson(configuration) {
        people += 1;
        const email = `${configuration}-${people}@home.example`;
        const person = await signIn({ sub: `eval-${email}`, email, name: `Person ${people}` });
        if (configuration === 'permissive') await setPolicy(person.call, AUTOPILOT_POLICY);
        return { ...person, email, configuration };
      },
      async close() {
        for (const part of stack.reverse()) await part.close();
        await platform.stop();
      },
    };
  } catch (error) {
    for (const part of stack.reverse()) await part.close().catch(() => undefined);
    await platform.stop();
    throw error;
  }
}

type Call = <T>(method: string, path: string, body?: unknown) => Promise<HttpAnswer<T>>;

/** Signs a person in (a tenant of their own) and connects their Gmail and Calendar. */
async function signInAndConnect(
  origin: string,
  provider: OidcProviderDouble,
  who: { sub: string; email: string; name: string },
) {
  const browser = new TestBrowser();
  const leaves = (location: URL) =>
    location.origin === origin && !location.pathname.startsWith('/v1/');
  provider.nextUser(who);
  await browser.follow(`${origin}/v1/auth/google/start`, leaves);
  const session = (await (await browser.fetch(`${origin}/v1/session`)).json()) as {
    csrfToken: string;
    user: { id: string };
    tenant: { id: string };
  };
  await browser.follow(
    `${origin}/v1/connections/google/start?scopes=gmail.modify,calendar.events`,
    leaves,
  );
  const call: Call = async <T>(method: string, path: string, body?: unknown) => {
    const response = await browser.fetch(`${origin}${path}`, {
      method,
      headers: {
        'x-csrf-token': session.csrfToken,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  };
  const connections = await call<{ connections: { id: string; account: string }[] }>(
    'GET',
    '/v1/connections',
  );
  const connectionId = connections.body.connections.find(
    (connection) => connection.account === who.email,
  )?.id;
  if (connectionId === undefined) throw new Error(`${who.email}'s Google account did not connect`);
  return {
    browser,
    csrf: session.csrfToken,
    userId: session.user.id,
    tenantId: session.tenant.id,
    connectionId,
    call,
  };
}

/** Replaces the tenant's policy (the person owns their tenant). */
async function setPolicy(call: Call, text: string): Promise<void> {
  const policy = await call<{ version: number }>('GET', '/v1/tenant/policy');
  const saved = await call('POST', '/v1/tenant/policy', {
    text,
    expectedVersion: policy.body.version,
  });
  if (saved.status !== 200)
    throw new Error(`the policy was refused: ${JSON.stringify(saved.body)}`);
}
