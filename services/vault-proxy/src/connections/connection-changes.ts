import {
  vaultConnectionsChanged,
  type CONNECTION_CHANGES,
  type EventPayload,
} from '@heroagent/contracts';
import type { ContractClient } from '@heroagent/service';

/** Why a connection's cached tokens must go. */
export type ConnectionChange = (typeof CONNECTION_CHANGES)[number];

/** Tells every gateway replica that a connection's cached access tokens must go. */
export interface ConnectionChanges {
  announce(change: EventPayload<typeof vaultConnectionsChanged>): Promise<void>;
}

/**
 * `vault.connections.changed` over NATS, flushed: when `announce` resolves the NATS server has
 * the event, so it reaches each gateway replica ahead of anything vault-proxy sends afterwards
 * (the answer to the call that made the change among them). A failure rejects, and the call that
 * made the change fails with it rather than answer as if every cache had heard.
 */
export class NatsConnectionChanges implements ConnectionChanges {
  constructor(private readonly client: ContractClient) {}

  async announce(change: EventPayload<typeof vaultConnectionsChanged>): Promise<void> {
    await this.client.publish(vaultConnectionsChanged, change);
    await this.client.ping();
  }
}
