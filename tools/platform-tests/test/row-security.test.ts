import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, sql, type Kysely } from '@heroagent/db';
import { startPlatformFixture, type PlatformFixture } from '../support/platform.js';

const SCHEMAS = ['agent', 'audit', 'gateway', 'vault_proxy'];

/**
 * Tables that hold no tenant's data, and so are not under row-level security. Anything else in a
 * service's schema must have it enabled and forced: a new table fails this test until it does,
 * or until it is added here with the reason.
 */
const NO_TENANT_DATA: Readonly<Record<string, string>> = {
  // Every schema's migration record and lock (libs/db migrateToLatest): names and times only.
  '*.migrations': 'which migrations ran, when',
  '*.migrations_lock': 'one lock row',
  'audit.signing_keys': 'the services’ public keys and their validity',
  'audit.quarantine_budget':
    'how many refused events each tenant bucket may still keep this minute, and how many were ' +
    'kept or dropped: counts shared by every audit replica; no event, no person',
  'audit.tenant_activity':
    'which tenants have events and how many: the ingest, checkpointer and SIEM export schedule ' +
    'their work across tenants by it; no event, no person',
  'gateway.http_rate_limits':
    'the HTTP rate limits’ windows shared by every gateway replica: a hash of route and client ' +
    'address, a count and an end time; no tenant, no person',
  'vault_proxy.tenants': 'the ids of tenants with connections, which key rotation walks',
  'vault_proxy.seen_requests': 'ids of requests already answered (replay protection)',
  'vault_proxy.revocation_work':
    'which revocation of which tenant is due when, or waits to be reported: what the workers ' +
    'walk across tenants; no person, connection or answer (those are in revocations, under RLS)',
};

/**
 * The settings row policies may read, and why each is sound: the tenant and person a request acts
 * for (set by the gateway after authentication), or the hash of a bearer secret or identity the
 * caller presented (knowing the value is proving the secret). No setting switches a policy on:
 * cross-tenant jobs have roles of their own (gateway migration 20261127090000).
 */
const POLICY_SETTINGS = [
  'app.tenant_id',
  'app.user_id',
  'app.session_hash',
  'app.flow_hash',
  'app.invitation_hash',
  'app.identity_issuer',
  'app.identity_subject',
];

describe('row-level security in every service schema (migrated as pnpm start does)', () => {
  let platform: PlatformFixture;
  let admin: Kysely<unknown>;

  beforeAll(async () => {
    platform = await startPlatformFixture();
    admin = createDatabase<unknown>({
      connectionString: platform.database.adminUrl,
      applicationName: 'row-security-test',
      maxConnections: 1,
    });
  });
  afterAll(async () => {
    await admin?.destroy();
    await platform?.stop();
  });

  it('is enabled and forced on every table but those holding no tenant data', async () => {
    const { rows } = await sql<{ name: string; enabled: boolean; forced: boolean }>`
      select n.nspname || '.' || c.relname as name, c.relrowsecurity as enabled,
        c.relforcerowsecurity as forced
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any(${SCHEMAS}::text[]) and c.relkind in ('r', 'p')
      order by 1`.execute(admin);
    const exempt = (name: string) =>
      NO_TENANT_DATA[name] !== undefined || NO_TENANT_DATA[`*.${name.split('.')[1]}`] !== undefined;
    const unguarded = rows.filter((row) => !exempt(row.name) && !(row.enabled && row.forced));
    expect(unguarded).toEqual([]);
    // Sanity: the tables that matter are there, and every exemption still names a table.
    expect(rows.map((row) => row.name)).toEqual(
      expect.arrayContaining(['gateway.audit_outbox', 'audit.event_search', 'audit.quarantine']),
    );
    for (const name of Object.keys(NO_TENANT_DATA).filter((key) => !key.startsWith('*.')))
      expect(
        rows.map((row) => row.name),
        name,
      ).toContain(name);
    expect(rows.filter((row) => row.name.endsWith('.migrations'))).toHaveLength(SCHEMAS.length);
  });

  it('has no policy that a session setting switches on, nor one open to every role across tenants', async () => {
    const { rows } = await sql<{ name: string; roles: string[]; text: string }>`
      select schemaname || '.' || tablename || '.' || policyname as name, roles::text[] as roles,
        coalesce(qual, '') || ' ' || coalesce(with_check, '') as text
      from pg_policies where schemaname = any(${SCHEMAS}::text[]) order by 1`.execute(admin);
    const settings = new Set(
      rows.flatMap((row) =>
        [...row.text.matchAll(/current_setting\('([^']+)'/g)].map((match) => match[1]!),
      ),
    );
    expect([...settings].filter((setting) => !POLICY_SETTINGS.includes(setting))).toEqual([]);
    const open = rows.filter(
      (row) =>
        row.roles.includes('public') && !POLICY_SETTINGS.some((name) => row.text.includes(name)),
    );
    // Every policy that reaches across tenants names the role it is for (a job's).
    expect(open.map((row) => row.name)).toEqual([]);
  });

  it('leaves every table owned by its schema’s owner (the migrate step ran as it)', async () => {
    const { rows } = await sql<{ name: string }>`
      select n.nspname || '.' || c.relname as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any(${SCHEMAS}::text[]) and c.relowner <> n.nspowner`.execute(admin);
    expect(rows).toEqual([]);
  });
});
