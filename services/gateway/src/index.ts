export { startGateway, type RunningGateway } from './gateway.js';
export { gatewayConfigSchema, type GatewayConfig } from './config.js';
