// The console's activity log at scale: one tenant with a million audit records (seeded straight
// into audit's tables), queried through the audit service over NATS as the gateway queries it.
// Prints p50/p99 of a page (50 records) per kind of query.
//
//   pnpm --filter @heroagent/bench run bench:activity-query [-- --events 200000] [-- --without-trigram]
//
// --without-trigram runs audit's migrations on a database without pg_trgm: the search then scans,
// bounded by audit's statement timeout (such pages answer TIMEOUT and are counted as such).
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connect } from '@nats-io/transport-node';
import {
  auditConfigSchema,
  migrations as auditMigrations,
  provisionAuditStream,
  startAudit,
} from '@heroagent/audit';
import { ContractError, queryAuditRecords, type AuditFilter } from '@heroagent/contracts';
import { createDatabase, sql } from '@heroagent/db';
import { createTestDatabase } from '@heroagent/db/testing';
import { ContractClient, natsEnvSchema } from '@heroagent/service';
import { startNatsServer } from '@heroagent/service/testing';
import { createLogger } from '@heroagent/telemetry';
import {
  RARE_PHRASE,
  SEEDED_ACTIONS,
  SEEDED_USERS,
  seedActivity,
  seededUser,
} from './activity-seed.js';
import { formatCount, printMachine, printTable } from './report.js';
import { summarize } from './stats.js';

const PAGE = 50;
const WARMUP = 20;
const SAMPLES = 200;
const DAY_MS = 86_400_000;

const argument = (name: string) => process.argv.indexOf(name);
const eventsArgument = argument('--events');
const EVENTS = eventsArgument > 0 ? Number(process.argv[eventsArgument + 1]) : 1_000_000;
const WITH_TRIGRAM = argument('--without-trigram') < 0;
if (!Number.isInteger(EVENTS) || EVENTS < 10_000)
  throw new Error('--events takes an integer ≥ 10000');

const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)]!;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();
/** Audit's cursor (opaque to clients; the bench builds one to land deep in the record). */
const cursorBefore = (seq: number) => Buffer.from(JSON.stringify({ b: seq })).toString('base64url');

/** What each timed request asks: a fresh draw per request, so no one page is merely cached. */
const CASES: readonly { name: string; request: () => { filter: AuditFilter; cursor?: string } }[] =
  [
    { name: 'first page, unfiltered', request: () => ({ filter: {} }) },
    {
      name: 'deep page (cursor at a random seq)',
      request: () => ({ filter: {}, cursor: cursorBefore(1 + Math.floor(Math.random() * EVENTS)) }),
    },
    {
      name: 'by user (a member’s own view)',
      request: () => ({ filter: { userId: seededUser(Math.floor(Math.random() * SEEDED_USERS)) } }),
    },
    {
      name: 'by user, deep (cursor)',
      request: () => ({
        filter: { userId: seededUser(Math.floor(Math.random() * SEEDED_USERS)) },
        cursor: cursorBefore(1 + Math.floor(Math.random() * EVENTS)),
      }),
    },
    { name: 'by action', request: () => ({ filter: { action: pick(SEEDED_ACTIONS) } }) },
    { name: 'by event name', request: () => ({ filter: { name: 'action.refused' } }) },
    { name: 'by outcome (success)', request: () => ({ filter: { outcome: 'success' } }) },
    { name: 'by outcome (pending, 2.4%)', request: () => ({ filter: { outcome: 'pending' } }) },
    {
      name: 'by time range (a random day)',
      request: () => {
        const start = 1 + Math.random() * 360;
        return { filter: { from: daysAgo(start), to: daysAgo(start - 1) } };
      },
    },
    {
      name: 'by time range (a random 30 days)',
      request: () => {
        const start = 30 + Math.random() * 330;
        return { filter: { from: daysAgo(start), to: daysAgo(start - 30) } };
      },
    },
    {
      name: 'by time range (the whole year)',
      request: () => ({ filter: { from: daysAgo(366), to: new Date().toISOString() } }),
    },
    { name: 'q "invoice" (~5% of events)', request: () => ({ filter: { q: 'invoice' } }) },
    {
      name: 'q "drafts.create" (action type)',
      request: () => ({ filter: { q: 'drafts.create' } }),
    },
    { name: `q "${RARE_PHRASE}" (~80 events)`, request: () => ({ filter: { q: RARE_PHRASE } }) },
    { name: 'q "xyzzy" (no match)', request: () => ({ filter: { q: 'xyzzy' } }) },
    {
      name: 'q "invoice" + a user',
      request: () => ({
        filter: { q: 'invoice', userId: seededUser(Math.floor(Math.random() * SEEDED_USERS)) },
      }),
    },
  ];

printMachine(`activity query: ${formatCount(EVENTS)} audit records of one tenant`);
const nats = await startNatsServer({ jetstream: true });
const database = await createTestDatabase();
const admin = createDatabase<unknown>({
  connectionString: database.adminUrl,
  applicationName: 'heroagent-bench',
  maxConnections: 1,
});
// A deploy step installs pg_trgm as a superuser (audit's migration owner may not).
if (WITH_TRIGRAM) await sql`create extension pg_trgm`.execute(admin);
const service = await database.provisionService('audit');
await service.migrate(auditMigrations);
// The install step: this NATS has no users, so any connection may provision.
const provisioner = await connect({ servers: nats.url });
await provisionAuditStream(provisioner);
await provisioner.close();
const audit = await startAudit(
  auditConfigSchema.parse({
    HEROAGENT_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: service.runtimeUrl,
    DATABASE_SCHEMA: 'audit',
    NATS_URL: nats.url,
    SERVICE_SIGNING_KEY: randomBytes(32).toString('base64url'),
    AUDIT_SECRETS_KEY: randomBytes(32).toString('base64url'),
    AUDIT_VERIFY_WORKERS: '0',
  }),
  createLogger({ service: 'audit', level: 'warn' }),
);
const client = ContractClient.create(
  natsEnvSchema.parse({ NATS_URL: nats.url, NATS_REQUEST_TIMEOUT_MS: '30000' }),
  'gateway',
);
try {
  const tenantId = randomUUID();
  const seedStart = performance.now();
  console.log(`\nseeding (not timed), pg_trgm ${WITH_TRIGRAM ? 'installed' : 'absent'}:`);
  await seedActivity(admin, tenantId, EVENTS, (line) => console.log(line));
  const { rows } = await sql<{ events: string; search: string }>`
    select pg_size_pretty(pg_total_relation_size('audit.events')) as events,
      pg_size_pretty(pg_total_relation_size('audit.event_search')) as search`.execute(admin);
  console.log(
    `seeded in ${((performance.now() - seedStart) / 1000).toFixed(0)} s; with their indexes,` +
      ` audit.events ${rows[0]!.events}, audit.event_search ${rows[0]!.search}`,
  );

  const viewer = { tenantId, userId: seededUser(0), role: 'auditor' as const };
  const table: string[][] = [];
  for (const each of CASES) {
    const samples: number[] = [];
    let timeouts = 0;
    let records = 0;
    for (let index = 0; index < WARMUP + SAMPLES; index += 1) {
      const { filter, cursor } = each.request();
      const started = performance.now();
      try {
        const page = await client.request(queryAuditRecords, {
          viewer,
          filter,
          limit: PAGE,
          ...(cursor === undefined ? {} : { cursor }),
        });
        if (index >= WARMUP) records += page.records.length;
      } catch (error) {
        if (!(error instanceof ContractError && error.code === 'TIMEOUT')) throw error;
        if (index >= WARMUP) timeouts += 1;
      }
      if (index >= WARMUP) samples.push(performance.now() - started);
    }
    const summary = summarize(samples);
    table.push([
      each.name,
      summary.p50.toFixed(1),
      summary.p99.toFixed(1),
      summary.max.toFixed(1),
      (records / SAMPLES).toFixed(0),
      String(timeouts),
    ]);
  }
  console.log(
    `\n${SAMPLES} pages of up to ${PAGE} per case (after ${WARMUP} untimed), one at a time, ` +
      'ContractClient → NATS → audit → Postgres (row-level security on) and back; ms:\n',
  );
  printTable(['query', 'p50', 'p99', 'max', 'rows/page', 'TIMEOUT'], table);
} finally {
  await client.close();
  await audit.close();
  await admin.destroy();
  await nats.stop();
  await database.drop();
}
