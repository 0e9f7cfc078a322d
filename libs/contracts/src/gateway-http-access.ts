import { z } from 'zod';

/** Who may call a route of the current tenant, by role (shared by the gateway's route files). */
export const everyone = { roles: ['owner', 'admin', 'auditor', 'member'] } as const;
/** Owners and admins: those who change the tenant. */
export const managers = { roles: ['owner', 'admin'] } as const;
/** Owners, admins and auditors: those who see the whole tenant. */
export const overseers = { roles: ['owner', 'admin', 'auditor'] } as const;

/** `/:id` path parameters. */
export const idParams = z.strictObject({ id: z.uuid() });

/** Those who act through agents: everyone but auditors, who read and never change anything. */
export const actors = { roles: ['owner', 'admin', 'member'] } as const;
