export { startGateway, type GatewayHooks, type RunningGateway } from './gateway.js';
export { GATEWAY_JOBS, gatewayConfigSchema, type GatewayConfig } from './config.js';
export { migrations } from '../migrations/index.js';
/** For the benchmarks: what seals and opens a person's data, to measure its cost. */
export { PersonalKeys, Sealer } from './privacy/personal-keys.js';
export { sealValues } from './privacy/sealed-columns.js';
export { AccessTokenCache } from './connections/access-token-cache.js';
export { VaultProxyClient } from './connections/vault-proxy.client.js';
export { ActionConnectors } from './actions/action-connectors.js';
