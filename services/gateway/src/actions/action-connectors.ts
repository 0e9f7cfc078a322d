import { ContractError, type ActionDefinition } from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type { VaultProxyClient } from '../connections/vault-proxy.client.js';
import type { ActingFor } from './action-events.js';
import { ConnectorError, type Connector } from './connector.js';

/**
 * What calling a provider takes, shared by performing, releasing and undoing an action: the
 * connector, a token from vault-proxy, and the contract error a failure becomes.
 */
export class ActionConnectors {
  constructor(
    private readonly vault: VaultProxyClient,
    private readonly connectors: readonly Connector[],
    private readonly logger: Logger,
  ) {}

  /** The connector for an action type, if any. */
  connectorFor(type: string): Connector | undefined {
    return this.connectors.find((candidate) => candidate.handles(type));
  }

  /** A token for the first of the action's scopes the connection was granted. */
  async tokenFor(definition: ActionDefinition, by: ActingFor): Promise<string> {
    let refused = false;
    for (const scope of definition.scopes) {
      try {
        const { token } = await this.vault.accessToken({
          tenantId: by.tenantId,
          userId: by.userId,
          connectionId: by.connectionId!,
          scopes: [scope],
        });
        return token;
      } catch (error) {
        if (error instanceof ContractError && error.code === 'SCOPE_NOT_GRANTED') {
          refused = true;
          continue;
        }
        throw error;
      }
    }
    // Every scope that would do was refused: name them all, so the person knows what to grant.
    const needed = definition.scopes.join(' or ');
    throw new ContractError(
      'SCOPE_NOT_GRANTED',
      refused
        ? `${definition.type} needs a scope the person did not grant: ${needed}`
        : `${definition.type} needs a scope: ${needed}`,
    );
  }

  toContractError(error: unknown, definition: ActionDefinition): ContractError {
    if (error instanceof ContractError) return error;
    if (error instanceof ConnectorError) {
      switch (error.failure) {
        case 'not_found':
          return new ContractError('UPSTREAM_FAILED', `${definition.type}: ${error.message}`);
        case 'unauthorized':
          return new ContractError('CONNECTION_BROKEN', 'the provider refused the token');
        case 'forbidden':
          return new ContractError(
            'SCOPE_NOT_GRANTED',
            'the provider says the token lacks a scope',
          );
        case 'conflict':
          return new ContractError('CONFLICT', `${definition.type}: ${error.message}`);
        case 'unavailable':
          return new ContractError('PROVIDER_UNAVAILABLE', 'the provider is throttling or down');
        default:
          return new ContractError('UPSTREAM_FAILED', `${definition.type}: ${error.message}`);
      }
    }
    this.logger.error({ err: error, action: definition.type }, 'action failed unexpectedly');
    return new ContractError('UPSTREAM_FAILED', `${definition.type} failed`);
  }
}
