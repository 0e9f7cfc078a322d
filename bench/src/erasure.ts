// How long closing an account takes, and how much it erases, for a person with 10,000 actions
// against one with none, in the same run: the real gateway and vault-proxy (Vault double, Transit
// keys) in this process, Postgres and nats-server on loopback. Each person signs in through the
// gateway (OIDC double) into a tenant of their own; the busy one's task and actions are written
// straight into the gateway's tables, sealed with their data key exactly as the gateway seals them
// (bench-only: through the gateway's own PersonalKeys and sealValues), since 10,000 actions
// through the agent's path would measure the action path, not the erasure.
import 'reflect-metadata';
import { createHash, randomUUID } from 'node:crypto';
import { createDatabase, sql, type Kysely } from '@heroagent/db';
import { createTestDatabase } from '@heroagent/db/testing';
import { OidcProviderDouble, TestBrowser } from '@heroagent/doubles';
import { PersonalKeys, sealValues } from '@heroagent/gateway';
import { freePort, startNatsServer } from '@heroagent/service/testing';
import { startBenchGateway } from './gateway-bench.js';
import { startMountedVault } from './vault-proxy-bench.js';
import { formatCount, formatRatio, printMachine, printTable } from './report.js';

const ACTIONS = Number(process.env.BENCH_ERASURE_ACTIONS ?? 10_000);

printMachine(`closing an account: ${formatCount(ACTIONS)} actions against none`);

const nats = await startNatsServer();
const database = await createTestDatabase();
const vault = await startMountedVault();
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const provider = await OidcProviderDouble.start({
  redirectUris: [`${origin}/v1/auth/oidc/callback`],
});

const { gateway, ...services } = await startBenchGateway({
  database,
  natsUrl: nats.url,
  vault,
  port,
  gateway: {
    OIDC_ISSUER: provider.issuer,
    OIDC_CLIENT_ID: provider.clientId,
    OIDC_CLIENT_SECRET: provider.clientSecret,
  },
});
const admin: Kysely<unknown> = createDatabase({
  connectionString: database.adminUrl,
  schema: 'gateway',
  applicationName: 'bench-erasure',
});

interface Person {
  readonly browser: TestBrowser;
  readonly email: string;
  readonly userId: string;
  readonly tenantId: string;
  readonly csrf: string;
}

async function signIn(name: string): Promise<Person> {
  const browser = new TestBrowser();
  const email = `${name}@bench.example`;
  provider.nextUser({ sub: `sub-${name}`, email, name });
  await browser.follow(
    `${origin}/v1/auth/oidc/start`,
    (location) => location.origin === origin && !location.pathname.startsWith('/v1/'),
  );
  const session = (await (await browser.fetch(`${origin}/v1/session`)).json()) as {
    csrfToken: string;
    user: { id: string };
    tenant: { id: string };
  };
  return {
    browser,
    email,
    userId: session.user.id,
    tenantId: session.tenant.id,
    csrf: session.csrfToken,
  };
}

/** A task and `count` completed actions of the person, sealed as the gateway seals them. */
async function fill(person: Person, count: number): Promise<void> {
  const sealer = await gateway.app.get(PersonalKeys).forPerson(person.tenantId, person.userId);
  const taskId = randomUUID();
  await (admin as Kysely<Record<string, Record<string, unknown>>>)
    .insertInto('tasks')
    .values(
      sealValues(sealer, 'tasks', taskId, {
        id: taskId,
        tenant_id: person.tenantId,
        user_id: person.userId,
        title: 'Answer the week’s mail',
        request: 'Draft replies to everyone who wrote about the offsite, and file the rest.',
        actions: ['gmail.drafts.create'],
        limits: '{}',
        capability_id: randomUUID(),
        expires_at: new Date(Date.now() + 3_600_000),
      }),
    )
    .execute();
  for (let start = 0; start < count; start += 1_000) {
    const rows = Array.from({ length: Math.min(1_000, count - start) }, (_, offset) => {
      const id = randomUUID();
      const index = start + offset;
      return sealValues(sealer, 'actions', id, {
        id,
        tenant_id: person.tenantId,
        task_id: taskId,
        user_id: person.userId,
        capability_id: randomUUID(),
        type: 'gmail.drafts.create',
        class: 'reversible',
        idempotency_key: `bench-${index}`,
        request_hash: createHash('sha256').update(String(index)).digest(),
        params: JSON.stringify({
          to: [`colleague${index}@corp.example`],
          cc: [],
          bcc: [],
          subject: `Re: the offsite, part ${index}`,
          body: 'Thanks for the note. I can make Thursday; Friday is harder. See you there.',
        }),
        rationale: `The person asked me to answer everyone who wrote about the offsite (${index}).`,
        status: 'completed',
        policy: JSON.stringify({ effect: 'allow', policyId: 'default', reason: 'A draft.' }),
        result: JSON.stringify({ draftId: `d${index}`, messageId: `m${index}` }),
        undo_state: JSON.stringify({ draftId: `d${index}` }),
        untrusted: JSON.stringify([]),
        audit_event_id: randomUUID(),
      });
    });
    await (admin as Kysely<Record<string, Record<string, unknown>>>)
      .insertInto('actions')
      .values(rows)
      .execute();
  }
}

async function stored(person: Person): Promise<{ rows: number; bytes: number }> {
  const { rows } = await sql<{ rows: number; bytes: number }>`
    select count(*)::int as rows, coalesce(sum(pg_column_size(a.*)), 0)::bigint::float8 as bytes
    from gateway.actions a where a.user_id = ${person.userId}`.execute(admin);
  return rows[0]!;
}

async function close(person: Person): Promise<number> {
  const start = process.hrtime.bigint();
  const answer = await person.browser.fetch(`${origin}/v1/me/close`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': person.csrf },
    body: JSON.stringify({ confirm: person.email }),
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (answer.status !== 204)
    throw new Error(`closure refused: ${answer.status} ${await answer.text()}`);
  return ms;
}

// Warm up the path (one closure of nothing), then the two measured closures.
await close(await signIn('warmup'));
const idle = await signIn('idle');
const busy = await signIn('busy');
await fill(busy, ACTIONS);
const before = await stored(busy);
const idleMs = await close(idle);
const busyMs = await close(busy);
const after = await stored(busy);
const transitKeys = vault.requests.filter(
  (request) => request.method === 'DELETE' && request.path.includes('/keys/'),
).length;

console.log(
  'gateway and vault-proxy in this process (Vault double with Transit); Postgres and nats-server' +
    ' on loopback. Closing an account: vault-proxy erases the person’s key-encryption keys and' +
    ' secrets, the gateway drops their wrapped data key and deletes the person (their tasks,' +
    ' actions, approvals and timelines go by cascade); audit’s copies stay, sealed with the key now' +
    ' gone.\n',
);
printTable(
  ['person', 'actions', 'gateway bytes', 'closure ms'],
  [
    ['no actions (baseline)', '0', '0', idleMs.toFixed(1)],
    [
      `${formatCount(ACTIONS)} actions`,
      formatCount(before.rows),
      formatCount(before.bytes),
      busyMs.toFixed(1),
    ],
  ],
);
console.log(
  `\nclosure with ${formatCount(ACTIONS)} actions / closure with none: ${formatRatio(busyMs / idleMs)};` +
    ` left in the gateway afterwards: ${formatCount(after.rows)} rows;` +
    ` Transit keys deleted: ${transitKeys} (the busy person's: the others never sealed anything)`,
);

await admin.destroy();
await services.close();
await nats.stop();
await database.drop();
await provider.close();
await vault.close();
