import { randomUUID } from 'node:crypto';
import { auditConfigSchema, startAudit } from '@heroagent/audit';
import type { ActivityRecord } from '@heroagent/contracts';
import { GmailDouble, MerchantDouble, OidcProviderDouble, TestBrowser } from '@heroagent/doubles';
import { gatewayConfigSchema, startGateway } from '@heroagent/gateway';
import { freePort } from '@heroagent/service/testing';
import { createLogger } from '@heroagent/telemetry';
import { startVaultProxy, vaultProxyConfigSchema } from '@heroagent/vault-proxy';
import { HostileAgent } from './hostile-agent.js';
import { googleDoubleEnv, startPlatformFixture, type PlatformFixture } from './platform.js';

/** The merchant id the gateway is configured with (MERCHANTS). */
export const SHOP = 'shop';

/** A tenant policy that lets agents send and buy without asking (irreversible actions allowed). */
export const SENDS_ALLOWED = `@id("agents-act-alone")
@reason("This tenant lets its agents write, send and buy without asking.")
permit (principal, action in HeroAgent::Action::"reversible", resource);

@id("agents-send-alone")
@reason("This tenant lets its agents send and buy without asking.")
permit (principal, action in HeroAgent::Action::"irreversible", resource);
`;

/** A tenant policy's rate condition: at most three actions an hour per person. */
export const HOURLY_CAP = `@id("hourly-cap")
@reason("At most three actions an hour.")
forbid (principal, action, resource) when { context.actionsLastHour >= 3 };
`;

/** A tenant policy's spend condition: at most 1000 minor units a day per person, across tasks. */
export const DAILY_SPEND_CAP = `@id("daily-spend-cap")
@reason("At most 10 a day.")
forbid (principal, action in HeroAgent::Action::"purchase", resource)
when { context.spentTodayMinor + context.amountMinor > 1000 };
`;

/** Audit events after which an action is settled one way or the other. */
const SETTLED = ['action.executed', 'action.failed', 'action.cancelled', 'action.rejected'];

/** A JSON answer of the gateway's HTTP API. */
export interface HttpAnswer<T> {
  readonly status: number;
  readonly body: T;
}

/** A person's task as POST /v1/tasks answered it. */
export interface StartedTask {
  readonly taskId: string;
  readonly capability: string;
}

/** A signed-in person with their own browser (and so their own address), in one tenant. */
export class Person {
  constructor(
    private readonly origin: string,
    readonly browser: TestBrowser,
    readonly userId: string,
    readonly tenantId: string,
    readonly email: string,
    private readonly csrf: string,
    /** Their connected Google account (Gmail), if they connected one. */
    readonly connectionId: string | undefined,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<HttpAnswer<T>> {
    const response = await this.browser.fetch(`${this.origin}${path}`, {
      method,
      headers: {
        ...(method === 'GET' ? {} : { 'x-csrf-token': this.csrf }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  }

  /** Replaces the tenant's policy (the person manages the tenant). */
  async setPolicy(text: string): Promise<void> {
    const current = await this.call<{ version: number }>('GET', '/v1/tenant/policy');
    const saved = await this.call('POST', '/v1/tenant/policy', {
      text,
      expectedVersion: current.body.version,
    });
    if (saved.status !== 200) throw new Error(`policy refused: ${JSON.stringify(saved.body)}`);
  }

  async startTask(
    actions: string[],
    limits: Record<string, unknown> = {},
    ttlMinutes?: number,
  ): Promise<StartedTask> {
    const started = await this.call<{ task: { id: string }; capability: string }>(
      'POST',
      '/v1/tasks',
      {
        title: 'Whatever the agent says',
        actions,
        limits,
        ...(ttlMinutes === undefined ? {} : { ttlMinutes }),
        ...(this.connectionId === undefined ? {} : { connectionId: this.connectionId }),
      },
    );
    if (started.status !== 201) throw new Error(`task refused: ${JSON.stringify(started.body)}`);
    return { taskId: started.body.task.id, capability: started.body.capability };
  }

  /** Approves an approval; the HTTP status and the code of a refusal, if any. */
  async approve(approvalId: string): Promise<{ status: number; code?: string }> {
    const answer = await this.call<{ code?: string }>(
      'POST',
      `/v1/approvals/${approvalId}/approve`,
      {},
    );
    return {
      status: answer.status,
      ...(answer.body?.code === undefined ? {} : { code: answer.body.code }),
    };
  }

  /** The statuses of actions of these tasks, in the order asked, as "export my data" reports them. */
  async statusesOf(taskIds: string | readonly string[], ids: readonly string[]): Promise<string[]> {
    const exported = await this.call<{
      tenants: {
        id: string;
        tasks: { id: string; actionsTaken: { id: string; status: string }[] }[];
      }[];
    }>('GET', '/v1/me/export');
    if (exported.status !== 200) throw new Error(`export refused: ${exported.status}`);
    const actions = (
      exported.body.tenants.find((tenant) => tenant.id === this.tenantId)?.tasks ?? []
    )
      .filter((task) => [taskIds].flat().includes(task.id))
      .flatMap((task) => task.actionsTaken);
    return ids.map((id) => actions.find((action) => action.id === id)?.status ?? 'missing');
  }

  /**
   * How each action settled, as the activity log of its task shows it to this person: the name
   * of its settling event ('none' if it has none). Waits, up to a deadline, until every action
   * has settled (and audit has caught up): only then is what reached a provider final.
   */
  async settled(taskIds: string | readonly string[], ids: readonly string[]): Promise<string[]> {
    const settledIn = (records: ActivityRecord[]) =>
      ids.map(
        (id) =>
          records.find((record) => record.actionId === id && SETTLED.includes(record.name))?.name ??
          'none',
      );
    const records = await until(
      async () => {
        const pages = await Promise.all(
          [taskIds].flat().map(async (taskId) => {
            const answer = await this.call<{ records: ActivityRecord[] }>(
              'GET',
              `/v1/activity?taskId=${taskId}&limit=200`,
            );
            if (answer.status !== 200) throw new Error(`activity refused: ${answer.status}`);
            return answer.body.records;
          }),
        );
        return pages.flat();
      },
      (found) => !settledIn(found).includes('none'),
      20_000,
    );
    return settledIn(records);
  }

  /** Invites an email address into this person's tenant; the invitation's token. */
  async invite(email: string, role: 'admin' | 'member'): Promise<string> {
    const answer = await this.call<{ token: string }>('POST', '/v1/tenant/invitations', {
      email,
      role,
    });
    if (answer.status !== 201) throw new Error(`invitation refused: ${answer.status}`);
    return answer.body.token;
  }
}

/**
 * The real gateway, vault-proxy and audit in this process, on a test database and a nats-server
 * under deploy/nats, with Google's sign-in, Gmail and one merchant doubled, and no agent service:
 * the agent is the attacker, speaking raw NATS with the agent's credential. Sends wait
 * `sendWindowS` seconds in the outbox.
 */
export class HostilePlatform {
  private people = 0;
  private signingIn: Promise<void> = Promise.resolve();
  private control: Promise<{ person: Person; task: StartedTask }> | undefined;

  private constructor(
    private readonly fixture: PlatformFixture,
    readonly origin: string,
    readonly provider: OidcProviderDouble,
    readonly gmail: GmailDouble,
    readonly merchant: MerchantDouble,
    readonly agent: HostileAgent,
    private readonly closers: { close(): Promise<void> }[],
  ) {}

  static async start(options: { sendWindowS: number }): Promise<HostilePlatform> {
    const fixture = await startPlatformFixture();
    const closers: { close(): Promise<void> }[] = [];
    try {
      const origin = `http://127.0.0.1:${await freePort()}`;
      const provider = await OidcProviderDouble.start({
        redirectUris: [
          `${origin}/v1/auth/google/callback`,
          `${origin}/v1/connections/google/callback`,
        ],
      });
      closers.push(provider);
      const gmail = await GmailDouble.start();
      gmail.trustTokensFrom((token) => provider.introspect(token));
      closers.push(gmail);
      const merchant = await MerchantDouble.start();
      closers.push(merchant);
      const logger = (service: string) => createLogger({ service, level: 'silent' });
      const google = googleDoubleEnv(provider, origin);
      closers.push(
        await startAudit(auditConfigSchema.parse(fixture.env('audit')), logger('audit')),
      );
      closers.push(
        await startVaultProxy(
          vaultProxyConfigSchema.parse(fixture.env('vault-proxy', google['vault-proxy'])),
          logger('vault-proxy'),
        ),
      );
      const gatewayConfig = gatewayConfigSchema.parse(
        fixture.env('gateway', {
          ...google.gateway,
          GMAIL_API_ROOT_URL: gmail.rootUrl,
          MERCHANTS: JSON.stringify([{ id: SHOP, url: merchant.url, apiKey: merchant.apiKey }]),
          SEND_UNDO_WINDOW_S: String(options.sendWindowS),
          // Each person's browser comes from its own address through one proxy hop, so the
          // per-address HTTP rate limits apply per person, as in production.
          HTTP_TRUST_PROXY_HOPS: '1',
          NATS_REQUEST_TIMEOUT_MS: '10000',
        }),
      );
      closers.push(await startGateway(gatewayConfig, logger('gateway')));
      const agentPassword = fixture.env('agent').NATS_PASSWORD!;
      const agent = await HostileAgent.connect(fixture.nats.url, agentPassword);
      closers.push(agent);
      return new HostilePlatform(fixture, origin, provider, gmail, merchant, agent, closers);
    } catch (error) {
      for (const part of closers.reverse()) await part.close().catch(() => undefined);
      await fixture.stop();
      throw error;
    }
  }

  /**
   * A new person: signs in (a tenant of their own, or the one an invitation names) and, unless
   * told not to, connects a Google account whose Gmail the agent may read and send from.
   */
  newPerson(
    options: { invitation?: { email: string; token: string }; connect?: boolean } = {},
  ): Promise<Person> {
    // One at a time: the identity provider double signs in whoever `nextUser` named last.
    const next = this.signingIn.then(() => this.signIn(options));
    this.signingIn = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private signIn(options: {
    invitation?: { email: string; token: string };
    connect?: boolean;
  }): Promise<Person> {
    this.people += 1;
    return signInPerson(this.origin, this.provider, this.people, options);
  }

  /** The merchant's orders for these actions (the action id is the order's idempotency key). */
  ordersFor(actionIds: readonly string[]): { amountMinor: number }[] {
    return this.merchant.orders.filter((order) => actionIds.includes(order.idempotencyKey));
  }

  /** What reached Gmail from an account, with a subject starting with `prefix`. */
  sentFrom(account: string, prefix = ''): string[] {
    return this.gmail.sent
      .filter((message) => message.account === account && message.subject.startsWith(prefix))
      .map((message) => message.subject);
  }

  /**
   * Waits until the send window has passed for everything held so far: a send of another
   * tenant's task, held after them, reaches Gmail — the sender has taken up everything due before
   * it. (It may still be sending those: wait for the actions to settle before counting.)
   */
  async afterTheWindow(deadlineMs = 60_000): Promise<void> {
    this.control ??= (async () => {
      const person = await this.newPerson();
      await person.setPolicy(SENDS_ALLOWED);
      return { person, task: await person.startTask(['gmail.messages.send']) };
    })();
    const control = await this.control;
    const subject = `canary ${randomUUID()}`;
    const answer = await this.agent.act(control.task.capability, 'gmail.messages.send', {
      to: ['someone@example.org'],
      subject,
      body: 'Released after everything held before it.',
    });
    if (!answer.ok) throw new Error(`the control send was refused: ${answer.code}`);
    const deadline = Date.now() + deadlineMs;
    while (this.sentFrom(control.person.email, subject).length === 0) {
      if (Date.now() > deadline) throw new Error('the control send never left the outbox');
      await sleep(100);
    }
  }

  async close(): Promise<void> {
    for (const part of this.closers.reverse()) await part.close();
    await this.fixture.stop();
  }
}

/**
 * Person number `n` signs in at `origin` through the identity provider double (a tenant of their
 * own, or the one an invitation names) and, unless told not to, connects a Google account whose
 * Gmail the agent may read and send from. One at a time per provider: it signs in whoever
 * `nextUser` named last.
 */
export async function signInPerson(
  origin: string,
  provider: OidcProviderDouble,
  n: number,
  options: { invitation?: { email: string; token: string }; connect?: boolean } = {},
): Promise<Person> {
  const email = options.invitation?.email ?? `person${n}-${randomUUID().slice(0, 8)}@example.com`;
  const browser = new TestBrowser();
  const leaves = (location: URL) =>
    location.origin === origin && !location.pathname.startsWith('/v1/');
  provider.nextUser({ sub: `sub-${email}`, email, name: `Person ${n}` });
  const query = options.invitation === undefined ? '' : `?invitation=${options.invitation.token}`;
  await browser.follow(`${origin}/v1/auth/google/start${query}`, leaves);
  const session = (await (await browser.fetch(`${origin}/v1/session`)).json()) as {
    csrfToken: string;
    user: { id: string };
    tenant: { id: string } | null;
  };
  if (session.tenant === null) throw new Error(`${email} has no tenant after signing in`);
  let connectionId: string | undefined;
  if (options.connect !== false) {
    provider.nextUser({ sub: `sub-mail-${email}`, email, name: `Person ${n}` });
    await browser.follow(`${origin}/v1/connections/google/start?scopes=gmail.modify`, leaves);
    const listed = (await (await browser.fetch(`${origin}/v1/connections`)).json()) as {
      connections: { id: string; account: string }[];
    };
    connectionId = listed.connections.find((c) => c.account === email)?.id;
    if (connectionId === undefined) throw new Error(`${email} could not connect Gmail`);
  }
  return new Person(
    origin,
    browser,
    session.user.id,
    session.tenant.id,
    email,
    session.csrfToken,
    connectionId,
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until `done` holds of its value or the deadline passes; the last value. */
export async function until<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  deadlineMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(200);
  }
}
