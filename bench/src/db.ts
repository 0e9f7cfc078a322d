// What tenant isolation costs a transaction: withTenant (set_config + the work) against a plain
// transaction doing the same `select 1`, one at a time and with the pool busy.
import { createDatabase, sql, withTenant, type Kysely } from '@heroagent/db';
import { loadBenchConfig } from './config.js';
import { printMachine, printOperations, printTimedPlan, type OperationResult } from './report.js';
import { compareAsyncOpsPerSecond } from './timing.js';

const POOL_SIZE = 8;
const TENANT_ID = '7d1c3f2e-5b8a-4c6d-9e0f-1a2b3c4d5e6f';

const config = loadBenchConfig();
printMachine('Postgres: withTenant vs a plain transaction');

const db: Kysely<Record<string, never>> = createDatabase({
  connectionString: config.databaseUrl,
  applicationName: 'heroagent-bench',
  maxConnections: POOL_SIZE,
});

try {
  const server = await sql<{ version: string }>`select current_setting('server_version') as version`
    .execute(db)
    .catch((error: unknown) => {
      const { host, port } = new URL(config.databaseUrl);
      throw new Error(`cannot reach Postgres at ${host}:${port || 5432}`, { cause: error });
    });
  console.log(
    `Postgres ${server.rows[0]?.version ?? '?'} at ${new URL(config.databaseUrl).host}; pool of ${POOL_SIZE}`,
  );

  const plain = () => db.transaction().execute((trx) => sql`select 1`.execute(trx));
  const tenant = () => withTenant(db, TENANT_ID, (trx) => sql`select 1`.execute(trx));

  // Checked once: inside withTenant the tenant is set, so the figure is for the real thing.
  const inside = await withTenant(db, TENANT_ID, (trx) =>
    sql<{ tenant: string }>`select current_setting('app.tenant_id', true) as tenant`.execute(trx),
  );
  if (inside.rows[0]?.tenant !== TENANT_ID) throw new Error('withTenant did not set the tenant');

  printTimedPlan(config);
  const results: OperationResult[] = [];
  for (const concurrency of [1, POOL_SIZE]) {
    const [plainRate, tenantRate] = await compareAsyncOpsPerSecond([plain, tenant], {
      durationMs: config.caseMs,
      rounds: config.rounds,
      concurrency,
    });
    results.push(
      { name: `plain transaction, ${concurrency} in flight`, perSecond: plainRate! },
      { name: `withTenant, ${concurrency} in flight`, perSecond: tenantRate! },
    );
  }
  printOperations('trx', results);
} finally {
  await db.destroy();
}
