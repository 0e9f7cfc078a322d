import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { createLogger } from '@heroagent/telemetry';
import { VaultConnection } from '../src/secrets/vault/vault-connection.js';
import { VaultSecretsBackend } from '../src/secrets/vault/vault-secrets-backend.js';
import { secretsBackendContract } from './secrets-backend.contract.js';

// The same contract against a real Vault or OpenBao, when one is configured (it cannot run on
// these machines). It mounts KV v2 and Transit at random paths and removes them afterwards.
// process.env is read here because this file is the switch between a real server and none.
const address = process.env.VAULT_ADDR;
const token = process.env.VAULT_TOKEN;
const caFile = process.env.VAULT_CACERT;

describe.skipIf(address === undefined || token === undefined)(
  'Vault adapter against a real Vault (VAULT_ADDR)',
  () => {
    secretsBackendContract('Vault adapter + real Vault', async () => {
      const logger = createLogger({ service: 'vault-proxy', level: 'silent' });
      const suffix = randomBytes(4).toString('hex');
      const mounts = {
        kv: `heroagent-test-kv-${suffix}`,
        transit: `heroagent-test-transit-${suffix}`,
      };
      const options = {
        address: address!,
        ...(caFile === undefined ? {} : { caFile }),
        timeoutMs: 5000,
        auth: { method: 'token' as const, token: token! },
        strictWarnings: true,
      };
      const admin = await VaultConnection.connect(options, logger);
      await admin.call('POST', `sys/mounts/${mounts.kv}`, {
        type: 'kv',
        options: { version: '2' },
      });
      await admin.call('POST', `sys/mounts/${mounts.transit}`, { type: 'transit' });
      const backend = new VaultSecretsBackend(
        await VaultConnection.connect(options, logger),
        mounts,
      );
      return {
        backend,
        async teardown() {
          await backend.close();
          await admin.call('DELETE', `sys/mounts/${mounts.kv}`);
          await admin.call('DELETE', `sys/mounts/${mounts.transit}`);
          await admin.close();
        },
      };
    });
  },
);
