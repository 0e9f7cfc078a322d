export { createDatabase, postgresSsl, type DatabaseOptions, type DatabaseTls } from './database.js';
export {
  withTenant,
  withTenantReading,
  withSettings,
  retryOnDeadlock,
  useTenant,
  TENANT_SETTING,
  type TransactionLocks,
} from './tenant.js';
export {
  advisoryLockKey,
  holdSessionLock,
  type HeldSessionLock,
  type SessionLockOptions,
} from './session-lock.js';
export { enableTenantIsolationV1 } from './rls.js';
export { migrateToLatest, type MigrationSet } from './migrations.js';
export {
  provisionServiceDatabase,
  withCredentials,
  type JobRole,
  type ServiceDatabasePlan,
} from './provision.js';
export { checkMigrated, checkServiceRole, roleSetting, type MigrationRoles } from './roles.js';
export { DatabaseError, quoteIdentifier, type DatabaseErrorCode } from './errors.js';
export {
  sql,
  type ColumnType,
  type Generated,
  type Kysely,
  type RawBuilder,
  type Selectable,
  type Transaction,
} from 'kysely';
export type { Migration } from 'kysely/migration';
export { pingDatabase } from './ping.js';
