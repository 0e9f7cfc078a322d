import { z } from 'zod';
import {
  AGENT_STATUSES,
  modelProviderSchema,
  taskEventSchema,
  tenantModelSettingsSchema,
} from './agent-tasks.js';
import { capabilityLimitsSchema } from './capabilities.js';
import { actionTypeSchema, connectionIdSchema, timestampSchema, userIdSchema } from './common.js';
import { actors, everyone, idParams, managers, overseers } from './gateway-http-access.js';
import { defineRoute } from './http-route.js';

/**
 * The gateway's HTTP API for tasks: starting one (with the request the agent works on), its
 * timeline, stopping it, the tenant's agent switch and the tenant's model settings.
 */

/**
 * How a task's actions were chosen: read from the person's request (`derived`, least privilege),
 * listed by an API client driving the task itself (`listed`), or chosen broad by an owner or
 * admin (`broad`, recorded).
 */
export const TASK_SCOPES = ['derived', 'listed', 'broad'] as const;

/** An action a request in words asks for, and the words that ask for it. */
export const derivedActionSchema = z.object({ action: z.string(), because: z.string() });

export const taskViewSchema = z.object({
  id: z.uuid(),
  userId: userIdSchema,
  title: z.string(),
  actions: z.array(z.string()),
  scope: z.enum(TASK_SCOPES),
  connectionId: connectionIdSchema.nullable(),
  /** Null once the person's data key was erased: the addresses they allowed went with it. */
  limits: capabilityLimitsSchema.nullable(),
  status: z.enum(['running', 'stopped', 'expired']),
  createdAt: timestampSchema,
  expiresAt: timestampSchema,
  stoppedAt: timestampSchema.nullable(),
  stoppedBy: userIdSchema.nullable(),
  stopReason: z.string().nullable(),
  /** What the person asked the agent, if the agent works on it (a task may also be driven by an API client). */
  request: z.string().nullable(),
  /** How the agent's work stands, from its timeline; null when no agent works on the task. */
  agentStatus: z.enum(AGENT_STATUSES).nullable(),
  /** The agent's closing summary, when it finished. */
  summary: z.string().nullable(),
});

export const startTask = defineRoute({
  id: 'tasks.start',
  method: 'POST',
  path: '/v1/tasks',
  summary:
    'Starts a task: mints the capability the agent acts under (these actions, this account, these limits, until it expires).',
  access: actors,
  body: z
    .strictObject({
      title: z.string().trim().min(1).max(500),
      /**
       * With a request: at most these (the request decides which); with `scope: 'broad'`
       * exactly these. Without a request (an API client drives the task): exactly these.
       */
      actions: z.array(actionTypeSchema).min(1).max(50).optional(),
      connectionId: connectionIdSchema.optional(),
      limits: capabilityLimitsSchema.default({}),
      ttlMinutes: z.number().int().min(5).max(1440).default(60),
      /** The request in the person's words: the agent works on it under the task's capability. */
      request: z.string().trim().min(1).max(4000).optional(),
      /** The person's time zone (IANA), so the agent reads "tomorrow" as they mean it. */
      timeZone: z.string().max(64).optional(),
      /** `broad`: the listed actions whatever the request asks (owners and admins, recorded). */
      scope: z.enum(['derived', 'broad']).default('derived'),
    })
    .superRefine((body, context) => {
      if (body.actions === undefined && (body.request === undefined || body.scope === 'broad')) {
        context.addIssue({
          code: 'custom',
          path: ['actions'],
          message:
            body.scope === 'broad'
              ? 'a broad capability lists its actions'
              : 'list the actions, or give the request in words',
        });
      }
    }),
  outcome: {
    kind: 'json',
    status: 201,
    schema: z.object({ task: taskViewSchema, capability: z.string() }),
  },
  errors: [
    'UNAUTHENTICATED',
    'CSRF_INVALID',
    'FORBIDDEN',
    'ACTION_UNKNOWN',
    'CONNECTION_NOT_FOUND',
    'TENANT_PAUSED',
    'MODEL_UNAVAILABLE',
    'RATE_LIMITED',
    'CONFLICT',
    'UNAVAILABLE',
  ],
  rateLimitPerMinute: 60,
});

export const previewTask = defineRoute({
  id: 'tasks.preview',
  method: 'POST',
  path: '/v1/tasks/preview',
  summary:
    'What a task in words would be allowed to do, and which words ask for each action, before it starts (nothing is started or recorded).',
  access: actors,
  body: z.strictObject({
    request: z.string().trim().min(1).max(4000),
    /** At most these, as on start. */
    actions: z.array(actionTypeSchema).min(1).max(50).optional(),
  }),
  outcome: {
    kind: 'json',
    status: 200,
    schema: z.object({ actions: z.array(derivedActionSchema) }),
  },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN', 'ACTION_UNKNOWN'],
  rateLimitPerMinute: 120,
});

export const listTasks = defineRoute({
  id: 'tasks.list',
  method: 'GET',
  path: '/v1/tasks',
  summary:
    "Tasks: a member sees their own; an owner, admin or auditor may ask for a member's or all.",
  access: everyone,
  query: z.strictObject({ userId: z.union([userIdSchema, z.literal('all')]).optional() }),
  outcome: { kind: 'json', status: 200, schema: z.object({ tasks: z.array(taskViewSchema) }) },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN'],
});

export const stopTask = defineRoute({
  id: 'tasks.stop',
  method: 'POST',
  path: '/v1/tasks/:id/stop',
  summary:
    'Stops a task at once: its capability is refused from now on (its owner, or an owner or admin).',
  access: actors,
  params: idParams,
  body: z.strictObject({ reason: z.string().trim().max(500).default('') }),
  outcome: { kind: 'no-content' },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN', 'NOT_FOUND'],
});

export const getAgentsSwitch = defineRoute({
  id: 'tenant.agents.get',
  method: 'GET',
  path: '/v1/tenant/agents',
  summary: "Whether the tenant's agents are paused.",
  access: overseers,
  outcome: {
    kind: 'json',
    status: 200,
    schema: z.object({ paused: z.boolean() }),
  },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN'],
});

export const pauseAgents = defineRoute({
  id: 'tenant.agents.pause',
  method: 'POST',
  path: '/v1/tenant/agents/pause',
  summary:
    'Pauses every agent of the tenant at once: all its capabilities are refused until resumed.',
  access: managers,
  outcome: { kind: 'no-content' },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN'],
});

export const resumeAgents = defineRoute({
  id: 'tenant.agents.resume',
  method: 'POST',
  path: '/v1/tenant/agents/resume',
  summary: "Resumes the tenant's agents.",
  access: managers,
  outcome: { kind: 'no-content' },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN'],
});

export const listTaskEvents = defineRoute({
  id: 'tasks.events',
  method: 'GET',
  path: '/v1/tasks/:id/events',
  summary:
    "A task's timeline as the agent reported it (steps, rationales, model use, outcome), after a given seq: poll it to follow a running task.",
  access: everyone,
  params: idParams,
  query: z.strictObject({
    after: z.coerce.number().int().min(0).max(100_000).default(0),
    limit: z.coerce.number().int().min(1).max(500).default(200),
  }),
  outcome: {
    kind: 'json',
    status: 200,
    schema: z.object({
      taskId: z.uuid(),
      agentStatus: z.enum(AGENT_STATUSES).nullable(),
      events: z.array(taskEventSchema),
    }),
  },
  errors: ['UNAUTHENTICATED', 'NOT_FOUND'],
});

export const agentSettingsViewSchema = z.object({
  settings: tenantModelSettingsSchema,
  /** The providers this deployment offers (a provider that trains on customer data is never selectable). */
  providers: z.array(modelProviderSchema),
  defaultProviderId: z.string().nullable(),
  updatedAt: timestampSchema.nullable(),
  updatedBy: userIdSchema.nullable(),
});

export const getAgentSettings = defineRoute({
  id: 'tenant.agent-settings.get',
  method: 'GET',
  path: '/v1/tenant/agent-settings',
  summary:
    "The tenant's model settings (local only or cloud allowed, the provider, whether a cloud model may read message bodies) and the providers on offer.",
  access: everyone,
  outcome: { kind: 'json', status: 200, schema: agentSettingsViewSchema },
  errors: ['UNAUTHENTICATED', 'UNAVAILABLE'],
});

export const saveAgentSettings = defineRoute({
  id: 'tenant.agent-settings.save',
  method: 'POST',
  path: '/v1/tenant/agent-settings',
  summary:
    "Changes the tenant's model settings; a cloud provider needs cloud allowed, and no provider that trains on customer data can be chosen.",
  access: managers,
  body: tenantModelSettingsSchema,
  outcome: { kind: 'json', status: 200, schema: agentSettingsViewSchema },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN', 'MODEL_UNAVAILABLE', 'UNAVAILABLE'],
});
