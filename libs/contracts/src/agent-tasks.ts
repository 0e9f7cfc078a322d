import { z } from 'zod';
import {
  actionTypeSchema,
  capabilityTokenSchema,
  taskIdSchema,
  tenantIdSchema,
  timestampSchema,
  userIdSchema,
} from './common.js';
import { defineEvent, defineRpc } from './define.js';

/**
 * The agent's contracts. The gateway hands the agent a task (the person's words and the task's
 * capability) and may stop it; the agent reports its progress back to the gateway under that same
 * capability, so it can write only to the timeline of the task it was given.
 */

/** An operator-configured model provider's id (`local`, `ollama-gpu`, `hosted-eu`…). */
export const modelProviderIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'is not a model provider id');

/** Where a model runs: on the operator's own servers, or at a hosted provider. */
export const MODEL_LOCATIONS = ['local', 'cloud'] as const;
export type ModelLocation = (typeof MODEL_LOCATIONS)[number];

/** A provider as the gateway and console see it: no URL, no key. */
export const modelProviderSchema = z.object({
  id: modelProviderIdSchema,
  name: z.string(),
  location: z.enum(MODEL_LOCATIONS),
  model: z.string(),
  /** Whether its terms let it train on what it is sent. Such a provider is never selectable. */
  trainsOnCustomerData: z.boolean(),
});
export type ModelProvider = z.infer<typeof modelProviderSchema>;

/** Which model a task runs on. */
export const modelRefSchema = z.object({
  providerId: modelProviderIdSchema,
  model: z.string().max(200),
  location: z.enum(MODEL_LOCATIONS),
});
export type ModelRef = z.infer<typeof modelRefSchema>;

/**
 * A tenant's model settings. The gateway keeps them and sends them with every task; the agent
 * chooses the model from them and never uses a cloud model the tenant has not allowed.
 */
export const tenantModelSettingsSchema = z.strictObject({
  /** Whether a cloud model may be used at all. Off unless an owner or admin turns it on. */
  allowCloud: z.boolean().default(false),
  /** The chosen provider; null takes the operator's default (a local model where configured). */
  providerId: modelProviderIdSchema.nullable().default(null),
  /** Whether a cloud model may read message bodies and event descriptions in clear. */
  cloudMayReadBodies: z.boolean().default(false),
});
export type TenantModelSettings = z.infer<typeof tenantModelSettingsSchema>;

/** The kinds of personal data a model may have seen (in clear) or had replaced by placeholders. */
export const DATA_KINDS = [
  'task_text',
  'message_metadata',
  'message_bodies',
  'email_addresses',
  'phone_numbers',
  'contact_names',
  'calendar_events',
  'purchase_details',
] as const;
export const dataKindSchema = z.enum(DATA_KINDS);
export type DataKind = (typeof DATA_KINDS)[number];

const toolCallIdSchema = z.string().min(1).max(200);
const reportedCode = z.string().regex(/^[A-Z][A-Z_]{1,63}$/, 'is not an error code');

const eventBase = {
  /** 1, 2, 3… per task: a report sent twice is stored once. */
  seq: z.number().int().min(1).max(100_000),
  at: timestampSchema,
};

/** One step of a task's timeline, as the agent reports it and the console shows it. */
export const taskEventSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...eventBase, kind: z.literal('started'), model: modelRefSchema }),
  /** What the model said between steps (its plan, a question), placeholders restored. */
  z.strictObject({ ...eventBase, kind: z.literal('note'), text: z.string().max(4000) }),
  z.strictObject({
    ...eventBase,
    kind: z.literal('action.requested'),
    toolCallId: toolCallIdSchema,
    action: actionTypeSchema,
    rationale: z.string().max(2000),
  }),
  z.strictObject({
    ...eventBase,
    kind: z.literal('action.outcome'),
    toolCallId: toolCallIdSchema,
    action: actionTypeSchema,
    actionId: z.uuid().optional(),
    status: z.enum([
      'completed',
      'pending_approval',
      'approved',
      'rejected',
      'expired',
      'failed',
      'refused',
      'scheduled',
      'cancelled',
      'undone',
      'denied',
    ]),
    code: reportedCode.optional(),
    message: z.string().max(2000).optional(),
  }),
  /** Which model saw which kinds of data, in clear or as placeholders, over how many calls. */
  z.strictObject({
    ...eventBase,
    kind: z.literal('model.used'),
    model: modelRefSchema,
    calls: z.number().int().min(0).max(100_000),
    saw: z.array(dataKindSchema).max(DATA_KINDS.length),
    redacted: z.array(dataKindSchema).max(DATA_KINDS.length),
  }),
  z.strictObject({ ...eventBase, kind: z.literal('finished'), summary: z.string().max(8000) }),
  z.strictObject({
    ...eventBase,
    kind: z.literal('stopped'),
    code: reportedCode,
    message: z.string().max(2000),
  }),
  z.strictObject({
    ...eventBase,
    kind: z.literal('failed'),
    code: reportedCode,
    message: z.string().max(2000),
  }),
]);
export type TaskEvent = z.infer<typeof taskEventSchema>;
export type TaskEventKind = TaskEvent['kind'];

/** How the agent's work on a task stands, from its timeline. */
export const AGENT_STATUSES = ['running', 'completed', 'failed', 'stopped'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** `agent.tasks.start`: the gateway gives the agent a task to work on. */
export const startAgentTask = defineRpc({
  subject: 'agent.tasks.start',
  request: z.strictObject({
    tenantId: tenantIdSchema,
    userId: userIdSchema,
    taskId: taskIdSchema,
    /** The person's request, in their words: the only instructions the agent follows. */
    text: z.string().trim().min(1).max(4000),
    capability: capabilityTokenSchema,
    models: tenantModelSettingsSchema,
    /** The person's time zone (IANA), so "next Tuesday" means theirs. */
    timeZone: z.string().max(64).optional(),
    /** The address of the account the task acts through: the person's own ("email me"). */
    account: z.email().max(320).optional(),
  }),
  response: z.object({ accepted: z.literal(true), model: modelRefSchema }),
  errors: ['MODEL_UNAVAILABLE', 'CONFLICT', 'CAPABILITY_INVALID', 'RATE_LIMITED'],
  callers: ['gateway'],
  description:
    "The gateway gives the agent a task: the person's words, the capability it acts under, the tenant's model settings.",
});

/** `agent.tasks.stop`: the gateway tells the agent to stop a task now (its capability is revoked). */
export const stopAgentTask = defineRpc({
  subject: 'agent.tasks.stop',
  request: z.strictObject({
    tenantId: tenantIdSchema,
    taskId: taskIdSchema,
    reason: z.string().max(500).default(''),
  }),
  response: z.object({ stopped: z.boolean() }),
  errors: [],
  callers: ['gateway'],
  description: 'The gateway tells the agent to stop working on a task at once.',
});

/**
 * `agent.tasks.stopped`: the gateway announces to every agent replica that a task was stopped (a
 * request such as `agent.tasks.stop` reaches one replica of the queue group, perhaps not the one
 * working on it). The replica working on it stops at once; the others have nothing to do. Only the
 * gateway may publish under `agent.` (deploy/nats).
 */
export const agentTaskStopped = defineEvent({
  subjectPattern: 'agent.tasks.stopped',
  payload: z.strictObject({
    tenantId: tenantIdSchema,
    taskId: taskIdSchema,
    reason: z.string().max(500).default(''),
  }),
  description: 'A task was stopped: the agent replica working on it stops at once.',
});

/** `agent.models.list`: the model providers this deployment has, for the tenant's settings. */
export const listModelProviders = defineRpc({
  subject: 'agent.models.list',
  request: z.strictObject({}),
  response: z.object({
    providers: z.array(modelProviderSchema),
    defaultProviderId: modelProviderIdSchema.nullable(),
  }),
  errors: [],
  callers: ['gateway'],
  description: 'The model providers the operator configured (no URL, no key).',
});

/** `gateway.tasks.report`: the agent appends to the timeline of the task its capability names. */
export const reportTaskProgress = defineRpc({
  subject: 'gateway.tasks.report',
  request: z.strictObject({
    capability: capabilityTokenSchema,
    events: z.array(taskEventSchema).min(1).max(50),
  }),
  response: z.object({
    /** Events stored now (a repeated seq is not stored twice). */
    recorded: z.number().int().min(0),
    /** False once the task was stopped or expired: the agent should stop. */
    running: z.boolean(),
  }),
  errors: ['CAPABILITY_INVALID', 'CAPABILITY_EXPIRED', 'NOT_FOUND', 'CONFLICT'],
  callers: ['agent'],
  description: "The agent reports a task's progress (steps, model use, outcome) to its timeline.",
});
