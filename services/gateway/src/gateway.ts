import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  ContractClient,
  natsServerOptions,
  openServiceDatabase,
  PinoNestLogger,
  PLATFORM_VERSION,
  RefusedRequests,
} from '@heroagent/service';
import type { Logger } from '@heroagent/telemetry';
import { migrations } from '../migrations/index.js';
import { AppModule } from './app.module.js';
import type { GatewayConfig } from './config.js';
import { configureHttp } from './http/configure-http.js';
import { PublicOrigin } from './http/public-origin.js';

/** A running gateway: its HTTP address, and how to stop it. */
export interface RunningGateway {
  readonly app: NestExpressApplication;
  readonly url: string;
  /** The NATS requests it dropped unanswered (no reply subject, or one outside the agent's inbox). */
  readonly refusals: RefusedRequests;
  close(): Promise<void>;
}

/** Boots the gateway: database, NATS client and server, and the HTTP edge. */
export async function startGateway(config: GatewayConfig, logger: Logger): Promise<RunningGateway> {
  logger.info({ kid: config.signingKey.kid }, 'service keys loaded');
  const db = await openServiceDatabase({
    service: 'gateway',
    schema: config.schema,
    database: config.database,
    migrations,
    logger,
  });
  const client = ContractClient.create(config.nats, 'gateway');
  const identity = { name: 'gateway' as const, version: PLATFORM_VERSION, startedAt: new Date() };
  const publicOrigin = new PublicOrigin(config.http.publicOrigin);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.register({ identity, config, db, logger, client, publicOrigin }),
    { logger: new PinoNestLogger(logger), bodyParser: false },
  );
  configureHttp(app, config, logger);
  // The NATS side shares the app's global filter, which answers RPCs with coded errors.
  const refusals = new RefusedRequests('gateway', logger);
  app.connectMicroservice(natsServerOptions(config.nats, 'gateway', refusals), {
    inheritAppConfig: true,
  });
  await client.connect();
  await app.startAllMicroservices();
  await app.listen(config.http.port, config.http.host);
  const url = (await app.getUrl()).replace('[::1]', 'localhost');
  publicOrigin.listeningAt(url);
  logger.info({ url }, 'gateway ready');
  return {
    app,
    url,
    refusals,
    async close() {
      await app.close();
      await client.close();
      await db.destroy();
    },
  };
}
