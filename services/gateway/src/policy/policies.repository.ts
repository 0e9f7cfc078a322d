import { withSettings, type Kysely, type Selectable } from '@heroagent/db';
import type { InTransaction } from '../audit/audit-recorder.js';
import type { GatewayDatabase } from '../store-tables.js';

export type PolicyVersion = Selectable<GatewayDatabase['tenant_policies']>;

/** Each tenant's policy text, every version kept. */
export class PoliciesRepository {
  constructor(private readonly db: Kysely<GatewayDatabase>) {}

  async current(tenantId: string): Promise<PolicyVersion | undefined> {
    return withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) =>
      trx
        .selectFrom('tenant_policies')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('version', 'desc')
        .limit(1)
        .executeTakeFirst(),
    );
  }

  /**
   * Saves a new version if the current one is `expectedVersion` (0: none yet); the tenant's
   * versions are locked meanwhile. Undefined when another edit came first.
   */
  async save(
    tenantId: string,
    text: string,
    expectedVersion: number,
    by: string,
    within: (version: number) => InTransaction,
  ): Promise<number | undefined> {
    return withSettings(this.db, { 'app.tenant_id': tenantId }, async (trx) => {
      // Serialises edits of one tenant's policy (the primary key would refuse the loser anyway).
      await trx
        .selectFrom('tenants')
        .select('id')
        .where('id', '=', tenantId)
        .forUpdate()
        .executeTakeFirst();
      const latest = await trx
        .selectFrom('tenant_policies')
        .select('version')
        .where('tenant_id', '=', tenantId)
        .orderBy('version', 'desc')
        .limit(1)
        .executeTakeFirst();
      if ((latest?.version ?? 0) !== expectedVersion) return undefined;
      const version = expectedVersion + 1;
      await trx
        .insertInto('tenant_policies')
        .values({ tenant_id: tenantId, version, text, created_by: by })
        .execute();
      await within(version)(trx);
      return version;
    });
  }
}
