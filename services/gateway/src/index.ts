export { startGateway, type GatewayHooks, type RunningGateway } from './gateway.js';
export { GATEWAY_JOBS, gatewayConfigSchema, type GatewayConfig } from './config.js';
export { migrations } from '../migrations/index.js';
