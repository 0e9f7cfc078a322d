export { startAudit } from './audit.js';
export { auditConfigSchema, type AuditConfig } from './config.js';
export { auditProvisioningConfigSchema, type AuditProvisioningConfig } from './config.js';
export {
  provisionAuditStream,
  DEFAULT_AUDIT_STREAM,
  AUDIT_STREAM,
  AUDIT_CONSUMER,
  AUDIT_EVENT_MAX_BYTES,
  type AuditStreamOptions,
  type ProvisionOutcome,
} from './provisioning/audit-stream.js';
export { AuditStreamError, type AuditStreamErrorCode } from './provisioning/provisioning.errors.js';
export { migrations } from '../migrations/index.js';
