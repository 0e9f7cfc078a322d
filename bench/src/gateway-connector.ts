import { ActionConnectors, type RunningGateway } from '@heroagent/gateway';

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

/**
 * The running gateway's own connector for `type` — the very instance its actions call, with its
 * provider URL and timeouts — so that "the provider work called directly" is the same code.
 */
export function gatewayConnectorFor(gateway: RunningGateway, type: string): GatewayConnector {
  const connector = gateway.app.get(ActionConnectors).connectorFor(type);
  if (connector === undefined) throw new Error(`the gateway has no connector for ${type}`);
  return connector;
}
