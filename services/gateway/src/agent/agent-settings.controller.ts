import { Controller, Inject } from '@nestjs/common';
import {
  ContractError,
  getAgentSettings,
  saveAgentSettings,
  type ModelProvider,
  type RouteResponse,
  type TenantModelSettings,
} from '@heroagent/contracts';
import { AuditRecorder } from '../audit/audit-recorder.js';
import { EdgeOf, inTenant, Route, type Edge } from '../http/route.js';
import { AgentClient } from './agent.client.js';
import { AgentSettingsRepository, type StoredModelSettings } from './agent-settings.repository.js';

type SettingsView = RouteResponse<typeof getAgentSettings>;

function settingsView(
  stored: StoredModelSettings,
  offer: { providers: ModelProvider[]; defaultProviderId: string | null },
): SettingsView {
  return {
    settings: stored.settings,
    providers: offer.providers,
    defaultProviderId: offer.defaultProviderId,
    updatedAt: stored.updatedAt?.toISOString() ?? null,
    updatedBy: stored.updatedBy,
  };
}

/** Why these settings cannot be saved with the providers on offer, or undefined if they can. */
export function unselectable(
  settings: TenantModelSettings,
  providers: readonly ModelProvider[],
): string | undefined {
  if (settings.providerId === null) return undefined;
  const provider = providers.find((candidate) => candidate.id === settings.providerId);
  if (provider === undefined) {
    return `no model provider "${settings.providerId}" is configured in this deployment`;
  }
  if (provider.trainsOnCustomerData) {
    return `"${provider.name}" may train on what it is sent, so it cannot be chosen`;
  }
  if (provider.location === 'cloud' && !settings.allowCloud) {
    return `"${provider.name}" is a cloud model: allow cloud models first to choose it`;
  }
  return undefined;
}

/**
 * The tenant's model settings: whether a cloud model may be used at all, which provider, and
 * whether a cloud model may read message bodies. The agent gets them with every task and never
 * uses a model they rule out; the gateway checks a choice against the providers on offer.
 */
@Controller()
export class AgentSettingsController {
  constructor(
    @Inject(AgentSettingsRepository) private readonly settings: AgentSettingsRepository,
    @Inject(AgentClient) private readonly agent: AgentClient,
    @Inject(AuditRecorder) private readonly audit: AuditRecorder,
  ) {}

  @Route(getAgentSettings)
  async get(@EdgeOf() edge: Edge<typeof getAgentSettings>): Promise<SettingsView> {
    const session = inTenant(edge);
    const [stored, offer] = await Promise.all([
      this.settings.get(session.tenant.id),
      this.agent.providers(),
    ]);
    return settingsView(stored, offer);
  }

  @Route(saveAgentSettings)
  async save(
    @EdgeOf() edge: Edge<typeof saveAgentSettings>,
  ): Promise<RouteResponse<typeof saveAgentSettings>> {
    const session = inTenant(edge);
    const settings = edge.input.body;
    const offer = await this.agent.providers();
    const problem = unselectable(settings, offer.providers);
    if (problem !== undefined) throw new ContractError('MODEL_UNAVAILABLE', problem);
    const now = new Date();
    await this.settings.save(
      session.tenant.id,
      settings,
      session.userId,
      now,
      this.audit.within({
        tenantId: session.tenant.id,
        // Audit names are `<entity>.<what>`: the tenant's agent settings changed.
        name: 'tenant.agent_settings.changed',
        actor: { type: 'user', id: session.userId },
        userId: session.userId,
        outcome: 'success',
        data: { ...settings },
      }),
    );
    this.audit.committed();
    return settingsView({ settings, updatedAt: now, updatedBy: session.userId }, offer);
  }
}
