import type { TenantModelSettings } from '@heroagent/contracts';
import { withSettings, type Kysely } from '@heroagent/db';
import type { InTransaction } from '../audit/audit-recorder.js';
import type { GatewayDatabase } from '../store-tables.js';

/** What a tenant has until an owner or admin changes it: local models only, bodies kept back. */
export const DEFAULT_MODEL_SETTINGS: TenantModelSettings = {
  allowCloud: false,
  providerId: null,
  cloudMayReadBodies: false,
};

/** A tenant's model settings, and who last changed them (never, for the defaults). */
export interface StoredModelSettings {
  readonly settings: TenantModelSettings;
  readonly updatedAt: Date | null;
  readonly updatedBy: string | null;
}

/** Each tenant's model settings, in the tenant's row only. */
export class AgentSettingsRepository {
  constructor(private readonly db: Kysely<GatewayDatabase>) {}

  async get(tenantId: string): Promise<StoredModelSettings> {
    const row = await withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) =>
      trx
        .selectFrom('tenant_agent_settings')
        .select(['allow_cloud', 'provider_id', 'cloud_may_read_bodies', 'updated_at', 'updated_by'])
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst(),
    );
    if (row === undefined) {
      return { settings: { ...DEFAULT_MODEL_SETTINGS }, updatedAt: null, updatedBy: null };
    }
    return {
      settings: {
        allowCloud: row.allow_cloud,
        providerId: row.provider_id,
        cloudMayReadBodies: row.cloud_may_read_bodies,
      },
      updatedAt: row.updated_at,
      updatedBy: row.updated_by,
    };
  }

  async save(
    tenantId: string,
    settings: TenantModelSettings,
    by: string,
    now: Date,
    within: InTransaction,
  ): Promise<void> {
    const values = {
      allow_cloud: settings.allowCloud,
      provider_id: settings.providerId,
      cloud_may_read_bodies: settings.cloudMayReadBodies,
      updated_at: now,
      updated_by: by,
    };
    await withSettings(this.db, { 'app.tenant_id': tenantId }, async (trx) => {
      await trx
        .insertInto('tenant_agent_settings')
        .values({ tenant_id: tenantId, ...values })
        .onConflict((conflict) => conflict.column('tenant_id').doUpdateSet(values))
        .execute();
      await within(trx);
    });
  }
}
