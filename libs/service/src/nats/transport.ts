import { Transport, type NatsOptions } from '@nestjs/microservices';
import type { ServiceName } from '@heroagent/contracts';
import type { NatsConfig } from '../config.js';
import { ContractRequestDeserializer } from './deserializer.js';
import { inboxPrefixOf } from './subjects.js';

/** Connection options shared by a service's NATS server and its clients. */
export function natsConnectionOptions(config: NatsConfig, service: ServiceName) {
  return {
    servers: config.NATS_URL.split(',').map((server) => server.trim()),
    name: `heroagent-${service}`,
    ...(config.NATS_USER === undefined ? {} : { user: config.NATS_USER }),
    ...(config.NATS_PASSWORD === undefined ? {} : { pass: config.NATS_PASSWORD }),
    inboxPrefix: inboxPrefixOf(service),
    // Keep trying for ever: a service outlives a NATS restart.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
    waitOnFirstConnect: true,
  };
}

/** Options for the Nest microservice that answers a service's subjects. */
export function natsServerOptions(config: NatsConfig, service: ServiceName): NatsOptions {
  return {
    transport: Transport.NATS,
    options: {
      ...natsConnectionOptions(config, service),
      // One queue group per service: several replicas share the work, each request answered once.
      queue: service,
      deserializer: new ContractRequestDeserializer(),
      gracefulShutdown: true,
      gracePeriod: 500,
    },
  };
}
