import { z } from 'zod';
import { timestampSchema, userIdSchema } from './common.js';
import { managers, overseers } from './gateway-http-access.js';
import { defineRoute } from './http-route.js';

/**
 * The gateway's HTTP API for how long a tenant keeps its task history (tasks, their timelines,
 * actions and approvals). The signed audit record is not part of it: it is kept whole.
 */

/** The shortest and longest task history a tenant may keep, in days. */
export const TASK_HISTORY_DAYS = { min: 7, max: 3650 } as const;

/** What retention means for the signed audit record, shown beside the setting. */
export const AUDIT_RECORD_RETENTION =
  "The signed audit record is never shortened: it is hash-chained, so removing an event would break the chain. It holds ids, codes, outcomes, times and, for what a request caused, the client's address and user agent. The agent's stated reason, the policy's reason and other words that can name people are in it only encrypted with the person's (or the tenant's) key: erasing the person or the tenant destroys that key, and they become unreadable while the chain still verifies.";

/** A tenant's retention of task history, and who last changed it (never, for the default). */
export const retentionViewSchema = z.object({
  /** Days a finished task is kept after it was created; null: until the tenant is deleted. */
  taskHistoryDays: z.number().int().nullable(),
  updatedAt: timestampSchema.nullable(),
  updatedBy: userIdSchema.nullable(),
  /** Why the signed audit record is not shortened with it ({@link AUDIT_RECORD_RETENTION}). */
  auditRecord: z.string(),
});
export type RetentionView = z.infer<typeof retentionViewSchema>;

export const getRetention = defineRoute({
  id: 'tenant.retention.get',
  method: 'GET',
  path: '/v1/tenant/retention',
  summary:
    'How long the tenant keeps its task history (tasks, timelines, actions, approvals); the signed audit record is kept whole.',
  access: overseers,
  outcome: { kind: 'json', status: 200, schema: retentionViewSchema },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN'],
});

export const saveRetention = defineRoute({
  id: 'tenant.retention.save',
  method: 'POST',
  path: '/v1/tenant/retention',
  summary:
    'Sets how many days finished tasks are kept (7 to 3650; null keeps them until the tenant is deleted); a running task is never deleted.',
  access: managers,
  body: z.strictObject({
    taskHistoryDays: z
      .number()
      .int()
      .min(TASK_HISTORY_DAYS.min)
      .max(TASK_HISTORY_DAYS.max)
      .nullable(),
  }),
  outcome: { kind: 'json', status: 200, schema: retentionViewSchema },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN'],
});

/** The retention routes, spread into GATEWAY_ROUTES. */
export const RETENTION_ROUTES = [getRetention, saveRetention] as const;
