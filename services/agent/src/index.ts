export { startAgent } from './agent.js';
export { agentConfigSchema, type AgentConfig } from './config.js';
export { migrations } from '../migrations/index.js';
