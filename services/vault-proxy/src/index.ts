export { startVaultProxy } from './vault-proxy.js';
export { vaultProxyConfigSchema, type VaultProxyConfig } from './config.js';
