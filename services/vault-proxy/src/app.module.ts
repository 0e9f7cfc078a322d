import {
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { healthContracts } from '@heroagent/contracts';
import type { Kysely } from '@heroagent/db';
import {
  ContractClient,
  HealthModule,
  postgresIndicator,
  type ServiceRuntime,
} from '@heroagent/service';
import type { Logger } from '@heroagent/telemetry';
import type { VaultProxyConfig } from './config.js';
import { NatsConnectionChanges } from './connections/connection-changes.js';
import { ConnectionsRepository } from './connections/connections.repository.js';
import { EraseSubject } from './connections/erase-subject.js';
import { ListConnections } from './connections/list-connections.js';
import { RevokeConnection } from './connections/revoke-connection.js';
import { GrantVerifier } from './grants/grant-verifier.js';
import { DataKeys } from './keys/data-keys.js';
import { ExchangeCode } from './oauth/exchange-code.js';
import { OAuthClient } from './oauth/oauth-client.js';
import { RevocationReceipts } from './revocations/revocation-receipts.js';
import { RevocationWorker } from './revocations/revocation-worker.js';
import { RevocationsRepository } from './revocations/revocations.repository.js';
import { GatewaySealing } from './sealing.js';
import type { SecretsBackend } from './secrets/secrets-backend.js';
import type { VaultProxyDatabase } from './store-tables.js';
import { IssueToken } from './tokens/issue-token.js';
import { RefreshLocks } from './tokens/refresh-locks.js';
import { TokenService } from './tokens/token-service.js';
import { VaultHandler } from './vault.handler.js';

/**
 * Starts the secrets backend and then the revocation worker with the app; stops the worker and
 * housekeeping, then closes the backend and the NATS client it announces changes on, when the
 * app stops.
 */
class Housekeeping implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly secrets: SecretsBackend,
    private readonly worker: RevocationWorker,
    private readonly timer: NodeJS.Timeout,
    private readonly announcer: ContractClient,
    private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.secrets.start?.(this.logger);
    await this.announcer.connect();
    this.worker.start();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.worker.stop();
    await this.secrets.close();
    await this.announcer.close();
  }
}

/** The root module of vault-proxy: every part built explicitly from the runtime and its secrets backend. */
@Module({})
export class AppModule {
  static register(
    runtime: ServiceRuntime<VaultProxyConfig>,
    secrets: SecretsBackend,
  ): DynamicModule {
    const { config, logger } = runtime;
    const db = runtime.db as Kysely<VaultProxyDatabase>;
    const grants = new GrantVerifier(db, config.gateway.verifyKeys, config.requestMaxSkewMs);
    const connections = new ConnectionsRepository(db);
    const oauth = new OAuthClient(config.providers, config.oauthTimeoutMs);
    const sealing = new GatewaySealing(config.gateway.sealingPublicKey);
    // Publishes `vault.connections.changed` to the gateway's replicas (its handlers only answer).
    const announcer = ContractClient.create(config.nats, 'vault-proxy');
    const tokens = new TokenService(
      connections,
      secrets,
      oauth,
      new RefreshLocks(db),
      new NatsConnectionChanges(announcer),
      { ...config.tokens, refreshWaitMs: config.refreshWaitMs },
      logger,
    );
    const revocations = new RevocationsRepository(db);
    const worker = new RevocationWorker(
      revocations,
      secrets,
      oauth,
      tokens,
      config.revocations,
      logger,
    );
    const revoke = new RevokeConnection(grants, connections, revocations, tokens, worker);
    const prune = setInterval(() => {
      grants
        .prune()
        .catch((error: unknown) => logger.warn({ err: error }, 'pruning request ids failed'));
    }, config.requestMaxSkewMs);
    prune.unref();
    const value = <T>(provide: abstract new (...args: never[]) => T, useValue: T) => ({
      provide,
      useValue,
    });
    return {
      module: AppModule,
      imports: [
        HealthModule.forService(healthContracts['vault-proxy'], runtime.identity, [
          postgresIndicator(runtime.db),
          {
            name: secrets.kind === 'vault' ? 'vault' : 'secrets-store',
            check: async () => {
              const health = await secrets.health();
              if (!health.available) throw new Error(health.detail);
            },
          },
        ]),
      ],
      controllers: [VaultHandler],
      providers: [
        value(IssueToken, new IssueToken(grants, tokens, sealing)),
        value(ExchangeCode, new ExchangeCode(grants, oauth, secrets, connections, tokens, logger)),
        value(ListConnections, new ListConnections(connections, revocations)),
        value(RevokeConnection, revoke),
        value(EraseSubject, new EraseSubject(grants, secrets, connections, revoke)),
        value(RevocationReceipts, new RevocationReceipts(grants, revocations)),
        value(DataKeys, new DataKeys(grants, secrets, sealing)),
        {
          provide: Housekeeping,
          useValue: new Housekeeping(secrets, worker, prune, announcer, logger),
        },
      ],
    };
  }
}
