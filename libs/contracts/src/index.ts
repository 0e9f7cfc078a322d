export {
  ERROR_CODES,
  TRANSPORT_ERROR_CODES,
  ContractError,
  rpcErrorSchema,
  validationIssueSchema,
  toValidationIssues,
  type ErrorCode,
  type RpcErrorBody,
  type ValidationIssue,
} from './errors.js';
export {
  defineRpc,
  defineEvent,
  type RpcContract,
  type EventContract,
  type RpcRequest,
  type RpcRequestInput,
  type RpcResponse,
  type EventPayload,
} from './define.js';
export {
  SERVICE_NAMES,
  serviceNameSchema,
  tenantIdSchema,
  userIdSchema,
  taskIdSchema,
  connectionIdSchema,
  timestampSchema,
  jsonSignatureSchema,
  sealedBoxSchema,
  capabilityTokenSchema,
  actionTypeSchema,
  oauthScopeSchema,
  type ServiceName,
} from './common.js';
export {
  healthContracts,
  healthReportSchema,
  healthCheckSchema,
  type HealthReport,
  type HealthCheck,
} from './health.js';
export {
  executeAction,
  executeActionRequestSchema,
  executeActionResponseSchema,
} from './gateway-actions.js';
export {
  issueToken,
  tokenGrantRequestSchema,
  TOKEN_REQUEST_PURPOSE,
  SEALED_TOKEN_PURPOSE,
  type TokenGrantRequest,
} from './vault-tokens.js';
export {
  auditEventSchema,
  signedAuditEventSchema,
  auditActorSchema,
  policyDecisionSchema,
  auditEventRecorded,
  auditEventSubject,
  AUDIT_EVENT_PURPOSE,
  type AuditEvent,
  type SignedAuditEvent,
} from './audit-events.js';
export { ALL_RPC_CONTRACTS } from './registry.js';
