import 'reflect-metadata';

export {
  parseConfig,
  loadConfigOrExit,
  ConfigError,
  EXIT_CONFIG,
  natsEnvSchema,
  databaseEnvSchema,
  telemetryEnvSchema,
  commonEnvSchema,
  healthEnvSchema,
  commonConfig,
  checkTransportSecurity,
  natsConfigOf,
  schemaNameSchema,
  migrateConfigSchema,
  loadMigrateConfig,
  jobRoleVariable,
  type MigrateConfig,
  type CommonConfig,
  type NatsConfig,
  type DatabaseConfig,
  type TelemetryConfig,
  type HealthListenerConfig,
} from './config.js';
export {
  checkNatsAuth,
  nkeySeedFileSchema,
  nkeyPublicKeyOf,
  readNkeySeed,
} from './nats/nats-auth.js';
export { RpcHandler } from './nats/rpc-handler.decorator.js';
export { ContractClient, type RequestOptions } from './nats/contract-client.js';
export { ContractRequestDeserializer, MALFORMED_PAYLOAD } from './nats/deserializer.js';
export { CodedRpcExceptionFilter } from './nats/rpc-exception.filter.js';
export { toRpcException } from './nats/errors.js';
export { natsConnectionOptions, natsServerOptions, natsTlsOptions } from './nats/transport.js';
export {
  TLS_MIN_VERSION,
  checkNatsTls,
  pemFileSchema,
  flagSchema,
  databaseTlsFrom,
  sslParametersOf,
} from './transport-security.js';
export {
  serviceOfSubject,
  subjectPrefixOf,
  inboxPrefixOf,
  natsPasswordVariable,
  natsNkeyVariable,
  NATS_IDENTITIES,
  type NatsIdentity,
} from './nats/subjects.js';
export { ContractNatsServer } from './nats/contract-server.js';
export { RefusedRequests } from './nats/refused-requests.js';
export { refusalOf, type RequestRefusal } from './nats/reply-guard.js';
export {
  HealthService,
  SERVICE_IDENTITY,
  HEALTH_INDICATORS,
  type HealthIndicator,
  type ServiceIdentity,
} from './health/health.service.js';
export { HealthModule, postgresIndicator } from './health/health.module.js';
export {
  startHealthListener,
  type HealthListener,
  type ReadinessProbe,
} from './health/health-listener.js';
export { PinoNestLogger } from './logging/nest-logger.js';
export { startMicroservice, stopOnSignals } from './boot.js';
export { signingKeyEnvSchema, sealingKeyEnvSchema } from './keys.js';
export {
  startService,
  runService,
  openServiceDatabase,
  openJobDatabase,
  serviceReadiness,
  type RunningService,
  type ServiceRuntime,
} from './run.js';
export { migrateService, runMigrateStep } from './migrate.js';
export { PLATFORM_VERSION } from './version.js';
export { bootstrapTelemetry } from './bootstrap-telemetry.js';
