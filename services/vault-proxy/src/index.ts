export { startVaultProxy } from './vault-proxy.js';
export { vaultProxyConfigSchema, type VaultProxyConfig } from './config.js';
export { createKeyFile, rotateKeyFile } from './secrets/embedded/key-file.js';
export { migrations } from '../migrations/index.js';
export { VaultConnection, type VaultConnectionOptions } from './secrets/vault/vault-connection.js';
