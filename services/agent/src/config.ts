import { z } from 'zod';
import { MODEL_LOCATIONS, modelProviderIdSchema } from '@heroagent/contracts';
import {
  checkTransportSecurity,
  commonConfig,
  commonEnvSchema,
  loadConfigOrExit,
  schemaNameSchema,
} from '@heroagent/service';

const optional = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));
const httpUrl = z.url({ protocol: /^https?$/ });

/** One model provider the operator offers: an OpenAI-compatible endpoint and a model. */
const providerSchema = z
  .strictObject({
    id: modelProviderIdSchema,
    name: z.string().min(1).max(100).optional(),
    location: z.enum(MODEL_LOCATIONS),
    baseUrl: httpUrl,
    model: z.string().min(1).max(200),
    apiKey: z.string().min(1).max(4096).optional(),
    /**
     * Whether the provider's terms let it train on what it is sent. A cloud provider must say so
     * explicitly; one that does (or may) is listed but never selectable.
     */
    trainsOnCustomerData: z.boolean().optional(),
  })
  .refine(
    (provider) => provider.location === 'local' || provider.trainsOnCustomerData !== undefined,
    'a cloud provider must state trainsOnCustomerData (true or false)',
  )
  .transform((provider) => ({
    ...provider,
    name: provider.name ?? provider.id,
    trainsOnCustomerData: provider.trainsOnCustomerData ?? false,
  }));
export type ProviderConfig = z.output<typeof providerSchema>;

const providerList = z
  .string()
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'must be a JSON array of providers' });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(providerSchema)
      .max(20)
      .refine(
        (list) => new Set(list.map((provider) => provider.id)).size === list.length,
        'provider ids must be unique',
      ),
  );

const envSchema = z
  .object({
    ...commonEnvSchema.shape,
    DATABASE_SCHEMA: schemaNameSchema.default('agent'),
    /** The providers on offer, as JSON: [{id, location, baseUrl, model, apiKey?, trainsOnCustomerData?}]. */
    AGENT_MODEL_PROVIDERS: providerList.optional(),
    /** Shorthand for one provider (id "default"): any OpenAI-compatible server such as Ollama. */
    LLM_BASE_URL: optional.pipe(httpUrl.optional()),
    LLM_MODEL: z.string().min(1).max(200).default('llama3.1'),
    LLM_API_KEY: optional,
    LLM_LOCATION: z.enum(MODEL_LOCATIONS).default('local'),
    LLM_TRAINS_ON_CUSTOMER_DATA: z.enum(['true', 'false']).optional(),
    /** The provider a tenant gets unless it chooses one (default: the first local one). */
    AGENT_DEFAULT_PROVIDER: modelProviderIdSchema.optional(),
    /** Model calls per task before the agent gives up. */
    AGENT_MAX_STEPS: z.coerce.number().int().min(1).max(200).default(20),
    /** Tasks this replica works on at once; more are refused with RATE_LIMITED. */
    AGENT_MAX_TASKS: z.coerce.number().int().min(1).max(1000).default(8),
    /**
     * Of those, how many one tenant's tasks may take (default: half, rounded up), so one tenant
     * cannot fill a replica. Fairness and resources only: the gateway holds each tenant's limit
     * across every replica (its AGENT_TASKS_PER_TENANT).
     */
    AGENT_MAX_TASKS_PER_TENANT: z.coerce.number().int().min(1).max(1000).optional(),
    AGENT_MODEL_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(120_000),
    /** How often the agent asks whether an action waiting for approval was decided. */
    AGENT_APPROVAL_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
  })
  .superRefine((env, context) => {
    checkTransportSecurity(env, context);
    const ids = providersOf(env).map((provider) => provider.id);
    if (env.AGENT_DEFAULT_PROVIDER !== undefined && !ids.includes(env.AGENT_DEFAULT_PROVIDER)) {
      context.addIssue({
        code: 'custom',
        path: ['AGENT_DEFAULT_PROVIDER'],
        message: 'names no configured provider',
      });
    }
    if (env.LLM_BASE_URL !== undefined && ids.filter((id) => id === 'default').length > 1) {
      context.addIssue({
        code: 'custom',
        path: ['AGENT_MODEL_PROVIDERS'],
        message: 'the id "default" is taken by LLM_BASE_URL',
      });
    }
    if (
      env.LLM_BASE_URL !== undefined &&
      env.LLM_LOCATION === 'cloud' &&
      env.LLM_TRAINS_ON_CUSTOMER_DATA === undefined
    ) {
      context.addIssue({
        code: 'custom',
        path: ['LLM_TRAINS_ON_CUSTOMER_DATA'],
        message: 'a cloud provider must state whether it trains on customer data (true or false)',
      });
    }
  });

function providersOf(env: {
  AGENT_MODEL_PROVIDERS?: ProviderConfig[] | undefined;
  LLM_BASE_URL?: string | undefined;
  LLM_MODEL: string;
  LLM_API_KEY?: string | undefined;
  LLM_LOCATION: (typeof MODEL_LOCATIONS)[number];
  LLM_TRAINS_ON_CUSTOMER_DATA?: 'true' | 'false' | undefined;
}): ProviderConfig[] {
  const listed = env.AGENT_MODEL_PROVIDERS ?? [];
  if (env.LLM_BASE_URL === undefined) return listed;
  const shorthand: ProviderConfig = {
    id: 'default',
    name: env.LLM_LOCATION === 'local' ? 'Local model' : 'Hosted model',
    location: env.LLM_LOCATION,
    baseUrl: env.LLM_BASE_URL,
    model: env.LLM_MODEL,
    ...(env.LLM_API_KEY === undefined ? {} : { apiKey: env.LLM_API_KEY }),
    trainsOnCustomerData:
      env.LLM_TRAINS_ON_CUSTOMER_DATA !== 'false' && env.LLM_LOCATION === 'cloud',
  };
  return [shorthand, ...listed];
}

/** The agent's configuration. It has no signing key and no credential: the agent can only ask. */
export const agentConfigSchema = envSchema.transform((env) => {
  const providers = providersOf(env);
  return {
    ...commonConfig(env),
    schema: env.DATABASE_SCHEMA,
    models: {
      providers,
      defaultProviderId:
        env.AGENT_DEFAULT_PROVIDER ??
        providers.find((provider) => provider.location === 'local')?.id ??
        null,
      timeoutMs: env.AGENT_MODEL_TIMEOUT_MS,
    },
    tasks: {
      maxSteps: env.AGENT_MAX_STEPS,
      maxConcurrent: env.AGENT_MAX_TASKS,
      maxPerTenant: Math.min(
        env.AGENT_MAX_TASKS,
        env.AGENT_MAX_TASKS_PER_TENANT ?? Math.ceil(env.AGENT_MAX_TASKS / 2),
      ),
      approvalPollMs: env.AGENT_APPROVAL_POLL_MS,
    },
  };
});
export type AgentConfig = z.output<typeof agentConfigSchema>;

/** Reads the environment once; a bad variable stops the process with its name. */
export function loadAgentConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): AgentConfig {
  return loadConfigOrExit('agent', agentConfigSchema, env);
}
