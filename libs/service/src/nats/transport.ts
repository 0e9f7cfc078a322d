import type { CustomStrategy } from '@nestjs/microservices';
import type { ServiceName } from '@heroagent/contracts';
import type { NatsConfig } from '../config.js';
import { ContractNatsServer } from './contract-server.js';
import { ContractRequestDeserializer } from './deserializer.js';
import type { RefusedRequests } from './refused-requests.js';
import { inboxPrefixOf, type NatsIdentity } from './subjects.js';

/** Connection options shared by a service's NATS server and its clients. */
export function natsConnectionOptions(config: NatsConfig, identity: NatsIdentity) {
  return {
    servers: config.NATS_URL.split(',').map((server) => server.trim()),
    name: `heroagent-${identity}`,
    ...(config.NATS_USER === undefined ? {} : { user: config.NATS_USER }),
    ...(config.NATS_PASSWORD === undefined ? {} : { pass: config.NATS_PASSWORD }),
    inboxPrefix: inboxPrefixOf(identity),
    // Keep trying for ever: a service outlives a NATS restart.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
    waitOnFirstConnect: true,
  };
}

/**
 * The Nest microservice that answers a service's subjects: Nest's NATS server behind the reply
 * guard of {@link ContractNatsServer}, which counts what it drops in `refusals`.
 */
export function natsServerOptions(
  config: NatsConfig,
  service: ServiceName,
  refusals: RefusedRequests,
): CustomStrategy {
  return {
    strategy: new ContractNatsServer(
      {
        ...natsConnectionOptions(config, service),
        // One queue group per service: several replicas share the work, each request answered once.
        queue: service,
        deserializer: new ContractRequestDeserializer(),
        gracefulShutdown: true,
        gracePeriod: 500,
      },
      refusals,
    ),
  };
}
