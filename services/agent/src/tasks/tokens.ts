import type { AgentConfig } from '../config.js';

/** The operator's model providers (injected so a handler does not take the whole configuration). */
export const AGENT_MODELS = Symbol('AGENT_MODELS');
export type AgentModels = AgentConfig['models'];
