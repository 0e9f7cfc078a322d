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
  getAction,
  executeActionRequestSchema,
  executeActionResponseSchema,
} from './gateway-actions.js';
export { gatewayKeysErased } from './gateway-keys.js';
export {
  issueToken,
  tokenGrantRequestSchema,
  TOKEN_REQUEST_PURPOSE,
  SEALED_TOKEN_PURPOSE,
  CONNECTION_CHANGES,
  vaultConnectionsChanged,
  type TokenGrantRequest,
} from './vault-tokens.js';
export {
  auditEventSchema,
  signedAuditEventSchema,
  auditActorSchema,
  policyDecisionSchema,
  auditEventRecorded,
  auditEventSubject,
  dataKeyRefSchema,
  personalFieldsSchema,
  personalFieldsContentSchema,
  personalFieldsContext,
  clientContextSchema,
  CLIENT_USER_AGENT_MAX,
  type ClientContext,
  AUDIT_EVENT_MAX_BYTES,
  AUDIT_EVENT_PURPOSE,
  type AuditEvent,
  type PersonalFieldsContent,
  type SignedAuditEvent,
} from './audit-events.js';
export {
  TENANT_ROLES,
  tenantRoleSchema,
  viewerSchema,
  auditRecordSchema,
  checkpointSchema,
  checkpointV1Schema,
  checkpointV2Schema,
  signedCheckpointSchema,
  AUDIT_CHECKPOINT_PURPOSE,
  auditFilterSchema,
  verificationReportSchema,
  siemDestinationSchema,
  siemDestinationKindSchema,
  queryAuditRecords,
  exportAuditBundle,
  proveInclusion,
  proveConsistency,
  CONSISTENCY_SEQUENCE_LIMIT,
  consistencyAnswerSchema,
  auditPublicKeySchema,
  type ConsistencyAnswer,
  listCheckpoints,
  verifyAuditChain,
  configureSiemDestination,
  listSiemDestinations,
  removeSiemDestination,
  testSiemDestination,
  type TenantRole,
  type Viewer,
  type AuditRecord,
  type Checkpoint,
  type CheckpointV2,
  type SignedCheckpoint,
  type AuditFilter,
  type VerificationReport,
  type SiemDestination,
} from './audit-records.js';
export { ALL_RPC_CONTRACTS } from './registry.js';
export {
  signedGrant,
  PROVIDERS,
  providerSchema,
  connectionSchema,
  SEALED_DATA_KEY_PURPOSE,
  listConnections,
  revokeConnection,
  eraseSubject,
  createDataKey,
  openDataKey,
  revocationSchema,
  listRevocationReceipts,
  acknowledgeRevocationReceipts,
  verifiedIdentitySchema,
  exchangeCode,
  type Connection,
  type Revocation,
} from './vault-connections.js';
export {
  defineRoute,
  type HttpRoute,
  type RouteAccess,
  type RouteOutcome,
  type RouteInput,
  type RouteResponse,
} from './http-route.js';
export * from './gateway-http.js';
export * from './gateway-http-tasks.js';
export * from './gateway-http-records.js';
export * from './gateway-http-policy-simulation.js';
export * from './gateway-http-retention.js';
export * from './agent-tasks.js';
export * from './action-catalog.js';
export * from './capabilities.js';
