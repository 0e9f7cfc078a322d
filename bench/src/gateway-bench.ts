import {
  exportEd25519Seed,
  exportX25519PrivateKey,
  generateSealingKey,
  generateSigningKey,
  toBase64Url,
} from '@heroagent/crypto';
import type { TestDatabase } from '@heroagent/db/testing';
import type { VaultDouble } from '@heroagent/doubles';
import {
  GATEWAY_JOBS,
  gatewayConfigSchema,
  migrations as gatewayMigrations,
  startGateway,
  type RunningGateway,
} from '@heroagent/gateway';
import type { RunningService } from '@heroagent/service';
import { createLogger } from '@heroagent/telemetry';
import { startBenchVaultProxy } from './vault-proxy-bench.js';

/** The gateway and the vault-proxy it asks for tokens, running in this process. */
export interface BenchGateway {
  readonly gateway: RunningGateway;
  readonly vaultProxy: RunningService;
  close(): Promise<void>;
}

/**
 * vault-proxy and the gateway in this process, each on its own schema of `database`, with keys of
 * their own (vault-proxy trusting the gateway's); the gateway's HTTP edge on `port` of loopback.
 * `gateway` holds its further settings (sign-in, providers), `google` vault-proxy's OAuth ones.
 */
export async function startBenchGateway(options: {
  readonly database: TestDatabase;
  readonly natsUrl: string;
  readonly vault: VaultDouble;
  readonly port: number;
  readonly gateway: Record<string, string>;
  readonly google?: Record<string, string>;
}): Promise<BenchGateway> {
  const signing = generateSigningKey();
  const sealing = generateSealingKey();
  const vaultProxy = await startBenchVaultProxy({
    database: options.database,
    natsUrl: options.natsUrl,
    vault: options.vault,
    gateway: { signing, sealing },
    ...(options.google === undefined ? {} : { google: options.google }),
  });
  const gatewayDb = await options.database.provisionService('gateway', { jobs: GATEWAY_JOBS });
  await gatewayDb.migrate(gatewayMigrations);
  const gateway = await startGateway(
    gatewayConfigSchema.parse({
      HEROAGENT_ENV: 'test',
      DATABASE_URL: gatewayDb.runtimeUrl,
      DATABASE_RELAY_URL: gatewayDb.jobUrls.relay,
      DATABASE_SWEEPER_URL: gatewayDb.jobUrls.sweeper,
      NATS_URL: options.natsUrl,
      HTTP_PORT: String(options.port),
      PUBLIC_URL: `http://127.0.0.1:${options.port}`,
      SERVICE_SIGNING_KEY: toBase64Url(exportEd25519Seed(signing.privateKey)),
      SERVICE_SEALING_KEY: toBase64Url(exportX25519PrivateKey(sealing.privateKey)),
      ...options.gateway,
    }),
    createLogger({ service: 'gateway', level: 'silent' }),
  );
  return {
    gateway,
    vaultProxy,
    async close() {
      await gateway.close();
      await vaultProxy.close();
    },
  };
}
