export { startGateway, type GatewayHooks, type RunningGateway } from './gateway.js';
export { GATEWAY_JOBS, gatewayConfigSchema, type GatewayConfig } from './config.js';
export { migrations } from '../migrations/index.js';
/** For the benchmarks: what seals and opens a person's data, to measure its share of an action. */
export { Sealer } from './privacy/personal-keys.js';
