import { randomUUID } from 'node:crypto';
import {
  actionDefinition,
  ContractError,
  type CapabilityLimits,
  type RouteInput,
  type startTask,
} from '@heroagent/contracts';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { VaultProxyClient } from '../connections/vault-proxy.client.js';
import type { AgentHandOff } from './agent-hand-off.js';
import type { Capabilities } from './capabilities.js';
import { chooseActions } from './derive-actions.js';
import type { TaskRow, TasksRepository } from './tasks.repository.js';

type Body = RouteInput<typeof startTask>['body'];

/** Whoever starts the task, in the tenant they act in. */
interface Starter {
  readonly userId: string;
  readonly tenant: { readonly id: string; readonly role: 'owner' | 'admin' | 'member' | 'auditor' };
}

/**
 * Starts a task: chooses what it may do (from the person's words, least privilege, unless an
 * owner or admin chose a broad capability — see derive-actions.ts), mints its capability, records
 * it with how its actions were chosen, and hands a task in words to the agent.
 */
export class StartTask {
  constructor(
    private readonly tasks: TasksRepository,
    private readonly capabilities: Capabilities,
    private readonly vault: VaultProxyClient,
    private readonly audit: AuditRecorder,
    private readonly agent: AgentHandOff,
    /** How many tasks in words the agent may work on for one tenant at once (every replica). */
    private readonly agentTasksPerTenant: number = Number.POSITIVE_INFINITY,
  ) {}

  async execute(starter: Starter, body: Body): Promise<{ task: TaskRow; capability: string }> {
    const { title, connectionId, limits, ttlMinutes, request, timeZone } = body;
    const unknown = (body.actions ?? []).filter((type) => actionDefinition(type) === undefined);
    if (unknown.length > 0) {
      throw new ContractError('ACTION_UNKNOWN', `no such action: ${unknown.join(', ')}`);
    }
    const chosen = chooseActions(body, starter.tenant.role);
    const tenantId = starter.tenant.id;
    if (await this.tasks.paused(tenantId)) {
      throw new ContractError('TENANT_PAUSED', "this tenant's agents are paused");
    }
    let account: string | null = null;
    if (connectionId !== undefined) {
      const mine = await this.vault.list(tenantId, starter.userId);
      const connection = mine.find((candidate) => candidate.id === connectionId);
      if (connection === undefined || connection.status === 'revoked') {
        throw new ContractError('CONNECTION_NOT_FOUND', 'you have no such connected account');
      }
      // The person's own address: theirs to write to, whatever the agent read.
      account = connection.account.toLowerCase();
    }
    const now = new Date();
    const taskId = randomUUID();
    const expiresAt = new Date(now.getTime() + ttlMinutes * 60_000);
    const { token, claims } = this.capabilities.mint(
      {
        tenantId,
        userId: starter.userId,
        taskId,
        actions: chosen.actions,
        ...(connectionId === undefined ? {} : { connectionId }),
        limits,
        expiresAt: expiresAt.toISOString(),
      },
      now,
    );
    const row = await this.tasks.create(
      {
        id: taskId,
        tenant_id: tenantId,
        user_id: starter.userId,
        title,
        actions: claims.actions,
        connection_id: connectionId ?? null,
        limits,
        capability_id: claims.id,
        expires_at: expiresAt,
        request: request ?? null,
        time_zone: timeZone ?? null,
        account,
        scope: chosen.scope,
      },
      this.audit.within({
        tenantId,
        name: 'task.started',
        actor: { type: 'user', id: starter.userId },
        userId: starter.userId,
        taskId,
        outcome: 'success',
        data: {
          capabilityId: claims.id,
          actions: claims.actions,
          scope: chosen.scope,
          // What the words asked for, beside a broad choice: what the owner or admin widened.
          ...(chosen.scope === 'broad'
            ? { requestAsked: chosen.derived.map((derived) => derived.action) }
            : {}),
          connectionId: connectionId ?? null,
          limits: limitsInClear(limits),
          expiresAt: claims.expiresAt,
        },
        // The addresses a person allows are theirs to erase: sealed, only their count in clear.
        ...(limits.recipients === undefined ? {} : { personal: { recipients: limits.recipients } }),
      }),
      request === undefined ? undefined : { max: this.agentTasksPerTenant, now },
    );
    this.audit.committed();
    if (row.request === null) return { task: row, capability: token };
    const handed = await this.agent.start({ ...row, request: row.request }, token);
    return { task: handed, capability: token };
  }
}

/** A task's limits as its signed record states them: the allowed addresses only counted. */
function limitsInClear({ recipients, ...rest }: CapabilityLimits) {
  return recipients === undefined ? rest : { ...rest, recipients: recipients.length };
}
