import { z } from 'zod';
import {
  commonConfig,
  commonEnvSchema,
  loadConfigOrExit,
  schemaNameSchema,
} from '@heroagent/service';

const envSchema = z.object({
  ...commonEnvSchema.shape,
  DATABASE_SCHEMA: schemaNameSchema.default('agent'),
});

/** The agent's configuration. It has no key and no credential: the agent can only ask. */
export const agentConfigSchema = envSchema.transform((env) => ({
  ...commonConfig(env),
  schema: env.DATABASE_SCHEMA,
}));
export type AgentConfig = z.output<typeof agentConfigSchema>;

/** Reads the environment once; a bad variable stops the process with its name. */
export function loadAgentConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): AgentConfig {
  return loadConfigOrExit('agent', agentConfigSchema, env);
}
