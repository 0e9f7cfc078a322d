export { startAudit } from './audit.js';
export { auditConfigSchema, type AuditConfig } from './config.js';
export { migrations } from '../migrations/index.js';
