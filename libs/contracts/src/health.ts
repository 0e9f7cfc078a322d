import { z } from 'zod';
import { serviceNameSchema, timestampSchema } from './common.js';
import { defineRpc } from './define.js';

/** One dependency of a service (Postgres, NATS, Vault…) and whether it answers. */
export const healthCheckSchema = z.object({
  name: z.string(),
  status: z.enum(['up', 'down']),
  detail: z.string().optional(),
});

/** A service's own view of its health; `ok` only when every check is up. */
export const healthReportSchema = z.object({
  service: serviceNameSchema,
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  startedAt: timestampSchema,
  uptimeSeconds: z.number().nonnegative(),
  checks: z.array(healthCheckSchema),
});
export type HealthReport = z.infer<typeof healthReportSchema>;
export type HealthCheck = z.infer<typeof healthCheckSchema>;

const healthRequestSchema = z.strictObject({});

const describe = (service: string) => `Reports whether ${service} and its dependencies are up.`;

/**
 * The health RPC of each service. The gateway's readiness asks the other three; the gateway's own
 * is asked only under its own identity (orchestrators probe its HTTP `/healthz` and `/readyz`).
 */
export const healthContracts = {
  gateway: defineRpc({
    subject: 'gateway.health.get',
    request: healthRequestSchema,
    response: healthReportSchema,
    errors: [],
    callers: ['gateway'],
    description: describe('the gateway'),
  }),
  agent: defineRpc({
    subject: 'agent.health.get',
    request: healthRequestSchema,
    response: healthReportSchema,
    errors: [],
    callers: ['gateway'],
    description: describe('the agent'),
  }),
  'vault-proxy': defineRpc({
    subject: 'vault.health.get',
    request: healthRequestSchema,
    response: healthReportSchema,
    errors: [],
    callers: ['gateway'],
    description: describe('vault-proxy'),
  }),
  audit: defineRpc({
    subject: 'audit.health.get',
    request: healthRequestSchema,
    response: healthReportSchema,
    errors: [],
    callers: ['gateway'],
    description: describe('the audit service'),
  }),
} as const;
