import {
  exportEd25519PublicKey,
  exportEd25519Seed,
  exportX25519PublicKey,
  generateSigningKey,
  toBase64Url,
  type SealingKey,
  type SigningKey,
} from '@heroagent/crypto';
import type { TestDatabase } from '@heroagent/db/testing';
import { VaultDouble } from '@heroagent/doubles';
import { createLogger } from '@heroagent/telemetry';
import {
  migrations as vaultProxyMigrations,
  startVaultProxy,
  vaultProxyConfigSchema,
} from '@heroagent/vault-proxy';

/** The Vault double with the KV v2 and Transit mounts vault-proxy uses, as an operator sets them up. */
export async function startMountedVault(): Promise<VaultDouble> {
  const vault = await VaultDouble.start();
  const root = { 'X-Vault-Token': vault.rootToken, 'content-type': 'application/json' };
  for (const [path, body] of [
    ['heroagent-kv', { type: 'kv', options: { version: '2' } }],
    ['heroagent-transit', { type: 'transit' }],
  ] as const) {
    await fetch(`${vault.address}/v1/sys/mounts/${path}`, {
      method: 'POST',
      headers: root,
      body: JSON.stringify(body),
    });
  }
  return vault;
}

/**
 * vault-proxy in this process, in production mode (its plaintext refusals waived for loopback),
 * on its own schema of `database`, trusting the gateway's keys, with Vault behind it and, given
 * `google`, Google's OAuth settings.
 */
export async function startBenchVaultProxy(options: {
  readonly database: TestDatabase;
  readonly natsUrl: string;
  readonly vault: VaultDouble;
  readonly gateway: { readonly signing: SigningKey; readonly sealing: SealingKey };
  readonly google?: Record<string, string>;
}) {
  const service = await options.database.provisionService('vault_proxy');
  await service.migrate(vaultProxyMigrations);
  return startVaultProxy(
    vaultProxyConfigSchema.parse({
      HEROAGENT_ENV: 'production',
      // Loopback only: production's plaintext refusals, each waived by its own setting.
      DATABASE_ALLOW_PLAINTEXT: 'true',
      NATS_ALLOW_PLAINTEXT: 'true',
      VAULT_ALLOW_HTTP: 'true',
      DATABASE_URL: service.runtimeUrl,
      DATABASE_SCHEMA: 'vault_proxy',
      NATS_URL: options.natsUrl,
      SERVICE_SIGNING_KEY: toBase64Url(exportEd25519Seed(generateSigningKey().privateKey)),
      GATEWAY_VERIFY_KEYS: JSON.stringify([
        {
          kid: options.gateway.signing.kid,
          publicKey: toBase64Url(exportEd25519PublicKey(options.gateway.signing.publicKey)),
        },
      ]),
      GATEWAY_SEALING_PUBLIC_KEY: toBase64Url(
        exportX25519PublicKey(options.gateway.sealing.publicKey),
      ),
      VAULT_ADDR: options.vault.address,
      VAULT_TOKEN: options.vault.rootToken,
      ...options.google,
    }),
    createLogger({ service: 'vault-proxy', level: 'silent' }),
  );
}
