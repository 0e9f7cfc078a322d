import {
  ContractError,
  type ModelProvider,
  type ModelRef,
  type TenantModelSettings,
} from '@heroagent/contracts';
import type { ProviderConfig } from '../config.js';

/** The providers as the gateway and console may see them: no URL, no key. */
export function publicProviders(providers: readonly ProviderConfig[]): ModelProvider[] {
  return providers.map(({ id, name, location, model, trainsOnCustomerData }) => ({
    id,
    name,
    location,
    model,
    trainsOnCustomerData,
  }));
}

/** A provider may serve a tenant if it never trains on what it is sent and, if hosted, the tenant allows the cloud. */
function refusal(provider: ProviderConfig, settings: TenantModelSettings): string | undefined {
  if (provider.trainsOnCustomerData) {
    return `the provider "${provider.id}" may train on customer data, so it is never used`;
  }
  if (provider.location === 'cloud' && !settings.allowCloud) {
    return `the provider "${provider.id}" is a cloud model and this tenant allows local models only`;
  }
  return undefined;
}

/**
 * The provider a task runs on: the tenant's choice if it may serve it; otherwise the operator's
 * default, then any local provider, then (only where the tenant allows the cloud) any hosted one
 * that does not train on customer data. MODEL_UNAVAILABLE when none qualifies.
 */
export function chooseProvider(
  providers: readonly ProviderConfig[],
  defaultProviderId: string | null,
  settings: TenantModelSettings,
): { provider: ProviderConfig; ref: ModelRef } {
  const pick = (provider: ProviderConfig) => ({
    provider,
    ref: { providerId: provider.id, model: provider.model, location: provider.location },
  });
  if (settings.providerId !== null) {
    const chosen = providers.find((provider) => provider.id === settings.providerId);
    if (chosen === undefined) {
      throw new ContractError(
        'MODEL_UNAVAILABLE',
        `the tenant's model provider "${settings.providerId}" is not configured`,
      );
    }
    const refused = refusal(chosen, settings);
    if (refused !== undefined) throw new ContractError('MODEL_UNAVAILABLE', refused);
    return pick(chosen);
  }
  const candidates = [
    ...providers.filter((provider) => provider.id === defaultProviderId),
    ...providers.filter((provider) => provider.location === 'local'),
    ...providers.filter((provider) => provider.location === 'cloud'),
  ];
  const usable = candidates.find((provider) => refusal(provider, settings) === undefined);
  if (usable === undefined) {
    throw new ContractError(
      'MODEL_UNAVAILABLE',
      providers.length === 0
        ? 'no model provider is configured (set LLM_BASE_URL or AGENT_MODEL_PROVIDERS)'
        : 'no configured model provider is allowed for this tenant (local only, or none that does not train on customer data)',
    );
  }
  return pick(usable);
}
