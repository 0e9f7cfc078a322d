import type { CustomStrategy } from '@nestjs/microservices';
import type { ServiceName } from '@heroagent/contracts';
import type { NatsConfig } from '../config.js';
import { natsUsesTls, TLS_MIN_VERSION } from '../transport-security.js';
import { ContractNatsServer } from './contract-server.js';
import { ContractRequestDeserializer } from './deserializer.js';
import { nkeySeedAuthenticator } from './nats-auth.js';
import type { RefusedRequests } from './refused-requests.js';
import { inboxPrefixOf, type NatsIdentity } from './subjects.js';

/**
 * The TLS options of a NATS connection, or undefined for plain NATS. With them the client
 * refuses a server that offers no TLS, verifies the server against NATS_TLS_CA_FILE (or the
 * system's trust store when NATS_TLS_SYSTEM_CA is true) and its name, negotiates TLS 1.3 at
 * least, and presents its certificate when one is given (mutual TLS). The files are read at each
 * (re)connection, so renewed certificates are picked up without a restart.
 */
export function natsTlsOptions(config: NatsConfig) {
  if (!natsUsesTls(config)) return undefined;
  return {
    minVersion: TLS_MIN_VERSION,
    rejectUnauthorized: true,
    ...(config.NATS_TLS_CA_FILE === undefined ? {} : { caFile: config.NATS_TLS_CA_FILE }),
    ...(config.NATS_TLS_CERT_FILE === undefined ? {} : { certFile: config.NATS_TLS_CERT_FILE }),
    ...(config.NATS_TLS_KEY_FILE === undefined ? {} : { keyFile: config.NATS_TLS_KEY_FILE }),
  } as const;
}

/**
 * Connection options shared by a service's NATS server and its clients: every connection to NATS
 * (the services' Nest transport and clients, the gateway's audit relay, audit's consumer and its
 * provisioning step) is made with these, so TLS and authentication are the same everywhere. The
 * credentials are a user and password, or an nkey seed read from NATS_NKEY_SEED_FILE at each
 * (re)connection; the inbox prefix is the identity's either way.
 */
export function natsConnectionOptions(config: NatsConfig, identity: NatsIdentity) {
  const tls = natsTlsOptions(config);
  return {
    servers: config.NATS_URL.split(',').map((server) => server.trim()),
    name: `heroagent-${identity}`,
    ...(config.NATS_USER === undefined ? {} : { user: config.NATS_USER }),
    ...(config.NATS_PASSWORD === undefined ? {} : { pass: config.NATS_PASSWORD }),
    ...(config.NATS_NKEY_SEED_FILE === undefined
      ? {}
      : { authenticator: nkeySeedAuthenticator(config.NATS_NKEY_SEED_FILE) }),
    ...(tls === undefined ? {} : { tls }),
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
