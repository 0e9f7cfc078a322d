// The platform an action runs on, started in this process for bench:action-roundtrip and
// bench:action-profile: nats-server with JetStream, Postgres, the Vault double, the real
// vault-proxy and gateway, the OIDC and Gmail doubles, and people who each signed in, connected the
// mailbox, let their agents write drafts without approval and started two tasks: one that searches
// and one that writes drafts. Apart, because deciding a write reads back and opens everything its
// task's reads returned (provenance), so a write in a task of hundreds of reads costs more.
//
// Tokens: the account is connected through the gateway's real sign-in and connect flows against
// the OIDC provider double, so vault-proxy holds a refresh token that double issued and refreshes
// it there. The double does not say which access tokens it issued, so vault-proxy's token URL is a
// small recording relay in front of the double's: it passes every request through unchanged and
// registers each access token in the answer with the Gmail double (as Google would know it). The
// relay counts refreshes, which shows the measured actions were served from vault-proxy's cache.
import 'reflect-metadata';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createTestDatabase } from '@heroagent/db/testing';
import { GmailDouble, OidcProviderDouble, TestBrowser } from '@heroagent/doubles';
import type { RunningGateway } from '@heroagent/gateway';
import { ContractClient, natsEnvSchema, parseConfig } from '@heroagent/service';
import { freePort, startNatsServer } from '@heroagent/service/testing';
import { startBenchGateway } from './gateway-bench.js';
import { gatewayConnectorFor, type GatewayConnector } from './gateway-connector.js';
import { startTokenRelay, type TokenRelay } from './token-relay.js';
import { startMountedVault } from './vault-proxy-bench.js';

const GOOGLE_SCOPES = [
  'https://www.googleapis.com/auth/gmail.readonly',
  'https://www.googleapis.com/auth/gmail.modify',
];
/** The audit stream the gateway's relay publishes into. */
export const AUDIT_STREAM = 'BENCH_GATEWAY_AUDIT';
/** The connected mailbox: every person's agent reads it and writes drafts in it. */
export const MAILBOX = {
  sub: 'sub-bench-mailbox',
  email: 'mailbox@bench.example',
  name: 'Mailbox',
};
/** Messages in the mailbox that the search finds. */
export const INVOICES = 5;
// A tenant permit without `@approval` for reversible actions, as an admin writes one: a draft
// then runs at once instead of waiting for a person (the default policy holds every write).
const WRITES_ALLOWED = `@id("bench-drafts-without-approval")
@reason("This tenant lets its agents write drafts without asking")
permit (principal, action in HeroAgent::Action::"reversible", resource);`;
/**
 * The default policy stops a person's agent after 1,000 actions in a day (no tenant permit lifts
 * it), so a run spreads its actions round-robin over enough people to stay under it.
 */
const ACTIONS_PER_PERSON = 900;

/** What a bench measures against, and how to stop it all. */
export interface ActionPlatform {
  readonly natsUrl: string;
  /** A plain nats.js connection (raw request/reply, the audit stream). */
  readonly raw: NatsConnection;
  readonly streams: JetStreamManager;
  /** The agent's client: it calls gateway.actions.execute. */
  readonly agent: ContractClient;
  readonly gateway: RunningGateway;
  /** Each person's two tasks' capabilities, in the same order: one to search, one to draft. */
  readonly capabilities: { readonly read: readonly string[]; readonly write: readonly string[] };
  /** How many people the actions are spread over. */
  readonly people: number;
  /** The gateway's own Gmail connector, the one its actions call. */
  readonly gmailConnector: GatewayConnector;
  readonly tokenRelay: TokenRelay;
  /** The access token the provider issued last (every one is valid for the mailbox). */
  latestAccessToken(): string;
  close(): Promise<void>;
}

/** Starts everything, with enough people for `actions` actions; see the file's comment. */
export async function startActionPlatform(actions: number): Promise<ActionPlatform> {
  // ---- Infrastructure: nats-server with JetStream, Postgres, Vault double ----------------------
  const nats = await startNatsServer({ jetstream: true });
  const raw = await connect({ servers: nats.url });
  const streams = await jetstreamManager(raw);
  await streams.streams.add({ name: AUDIT_STREAM, subjects: ['audit.events.*'] });
  const database = await createTestDatabase();
  const vault = await startMountedVault();

  // ---- Provider doubles: OIDC (sign-in, connect, refresh) and Gmail -----------------------------
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const provider = await OidcProviderDouble.start({
    redirectUris: [`${origin}/v1/auth/google/callback`, `${origin}/v1/connections/google/callback`],
  });
  const gmail = await GmailDouble.start();
  for (let index = 1; index <= INVOICES; index += 1) {
    gmail.addMessage({
      account: MAILBOX.email,
      from: `sender${index}@corp.example`,
      to: MAILBOX.email,
      subject: `Invoice ${index}`,
      body: `Please pay invoice ${index}.`,
    });
  }
  let latest: string | undefined;
  const tokenRelay = await startTokenRelay(provider.tokenUrl, (accessToken) => {
    gmail.allowToken(accessToken, GOOGLE_SCOPES, MAILBOX.email);
    latest = accessToken;
  });

  // ---- The services ----------------------------------------------------------------------------
  const services = await startBenchGateway({
    database,
    natsUrl: nats.url,
    vault,
    port,
    google: {
      OAUTH_GOOGLE_CLIENT_ID: provider.clientId,
      OAUTH_GOOGLE_CLIENT_SECRET: provider.clientSecret,
      OAUTH_GOOGLE_ISSUER: provider.issuer,
      OAUTH_GOOGLE_TOKEN_URL: tokenRelay.url,
      OAUTH_GOOGLE_REVOKE_URL: provider.revocationUrl,
    },
    gateway: {
      NATS_REQUEST_TIMEOUT_MS: '20000',
      OAUTH_GOOGLE_CLIENT_ID: provider.clientId,
      OAUTH_GOOGLE_AUTHORIZE_URL: provider.authorizeUrl,
      GMAIL_API_ROOT_URL: gmail.rootUrl,
      HTTP_TRUST_PROXY_HOPS: '1',
    },
  });
  const { gateway } = services;

  // ---- People, each with a tenant, its policy, the mailbox and a task, through the HTTP API ------
  const toThePage = (location: URL) =>
    location.origin === origin && !location.pathname.startsWith('/v1/');
  const startTasks = async (person: number) => {
    const browser = new TestBrowser();
    const email = `owner${person}@bench.example`;
    provider.nextUser({ sub: `sub-bench-owner-${person}`, email, name: `Owner ${person}` });
    await browser.follow(`${origin}/v1/auth/google/start?returnTo=%2Fwelcome`, toThePage);
    provider.nextUser(MAILBOX);
    await browser.follow(
      `${origin}/v1/connections/google/start?scopes=gmail.read,gmail.modify`,
      toThePage,
    );
    const session = await browser.fetch(`${origin}/v1/session`);
    const { csrfToken } = (await session.json()) as { csrfToken: string };
    const post = async (path: string, body: unknown) => {
      const answer = await browser.fetch(`${origin}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
        body: JSON.stringify(body),
      });
      if (!answer.ok) throw new Error(`${email}: ${path}: ${answer.status} ${await answer.text()}`);
      return answer.json();
    };
    await post('/v1/tenant/policy', { expectedVersion: 0, text: WRITES_ALLOWED });
    const listed = await browser.fetch(`${origin}/v1/connections`);
    const { connections } = (await listed.json()) as {
      connections: { id: string; account: string }[];
    };
    const connection = connections.find((candidate) => candidate.account === MAILBOX.email);
    if (connection === undefined) throw new Error(`${email}: the Google connection was not made`);
    const task = async (title: string, action: string) =>
      (
        (await post('/v1/tasks', { title, actions: [action], connectionId: connection.id })) as {
          capability: string;
        }
      ).capability;
    return {
      read: await task('Find the invoices', 'gmail.messages.search'),
      write: await task('Draft a note about the bills', 'gmail.drafts.create'),
    };
  };
  const capabilities = { read: [] as string[], write: [] as string[] };
  const people = Math.ceil(actions / ACTIONS_PER_PERSON);
  for (let person = 1; person <= people; person += 1) {
    const tasks = await startTasks(person);
    capabilities.read.push(tasks.read);
    capabilities.write.push(tasks.write);
  }

  const agent = ContractClient.create(
    parseConfig(natsEnvSchema, { NATS_URL: nats.url, NATS_REQUEST_TIMEOUT_MS: '20000' }),
    'agent',
  );
  await agent.connect();

  return {
    natsUrl: nats.url,
    raw,
    streams,
    agent,
    gateway,
    capabilities,
    people,
    gmailConnector: gatewayConnectorFor(gateway, 'gmail.messages.search'),
    tokenRelay,
    latestAccessToken() {
      if (latest === undefined) throw new Error('the provider has issued no access token yet');
      return latest;
    },
    async close() {
      await agent.close();
      await services.close();
      await raw.close();
      await nats.stop();
      await database.drop();
      await gmail.close();
      await tokenRelay.close();
      await provider.close();
      await vault.close();
    },
  };
}
