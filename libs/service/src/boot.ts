import type { DynamicModule, INestMicroservice, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ServiceName } from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type { NatsConfig } from './config.js';
import { PinoNestLogger } from './logging/nest-logger.js';
import { RefusedRequests } from './nats/refused-requests.js';
import { CodedRpcExceptionFilter } from './nats/rpc-exception.filter.js';
import { natsServerOptions } from './nats/transport.js';

/**
 * Creates and starts a Nest microservice answering `service`'s subjects on NATS; the requests it
 * drops unanswered are counted in `refusals` (one of its own when none is given).
 */
export async function startMicroservice(options: {
  service: ServiceName;
  module: Type | DynamicModule;
  nats: NatsConfig;
  logger: Logger;
  refusals?: RefusedRequests;
}): Promise<INestMicroservice> {
  const refusals = options.refusals ?? new RefusedRequests(options.service, options.logger);
  const app = await NestFactory.createMicroservice(options.module, {
    ...natsServerOptions(options.nats, options.service, refusals),
    logger: new PinoNestLogger(options.logger),
  });
  app.useGlobalFilters(new CodedRpcExceptionFilter());
  await app.listen();
  return app;
}

const STOP_TIMEOUT_MS = 15_000;

/**
 * Stops the process cleanly on SIGINT or SIGTERM: `stop` closes the app (in-flight requests
 * finish, subscriptions drain) and flushes telemetry. A second signal, or a stop that hangs,
 * exits at once with a failure status.
 */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    const deadline = setTimeout(() => {
      logger.error('shutdown did not finish in time: exiting');
      process.exit(1);
    }, STOP_TIMEOUT_MS);
    deadline.unref();
    stop().then(
      () => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
