import { ModulesContainer } from '@nestjs/core';
import type { RunningGateway } from '@heroagent/gateway';

/** A connector's call, as the gateway makes it: the action's id and type, parsed params, a token. */
export interface ConnectorCall {
  readonly actionId: string;
  readonly type: string;
  readonly params: unknown;
  readonly accessToken: string;
}

/** What the bench calls on one of the gateway's connectors. */
export interface GatewayConnector {
  execute(call: ConnectorCall): Promise<{ readonly result: unknown }>;
}

interface ActionConnectors {
  connectorFor(type: string): GatewayConnector | undefined;
}

// The gateway registers its connectors as one provider of this class; it does not export the
// class, so the bench finds it by name among the running app's providers.
const PROVIDER = 'ActionConnectors';

/**
 * The running gateway's own connector for `type` — the very instance its actions call, with its
 * provider URL and timeouts — so that "the provider work called directly" is the same code.
 */
export function gatewayConnectorFor(gateway: RunningGateway, type: string): GatewayConnector {
  for (const module of gateway.app.get(ModulesContainer).values()) {
    for (const [token, wrapper] of module.providers) {
      if (typeof token !== 'function' || token.name !== PROVIDER) continue;
      const connectors = wrapper.instance as Partial<ActionConnectors> | undefined;
      const connector = connectors?.connectorFor?.(type);
      if (typeof connector?.execute === 'function') return connector;
    }
  }
  throw new Error(
    `the gateway has no ${PROVIDER} provider with a connector for ${type}: the bench cannot call` +
      ' the connector directly (export it from @heroagent/gateway and use that instead)',
  );
}
