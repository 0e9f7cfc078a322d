import type { KeyObject } from 'node:crypto';
import { seal, type SealedBox } from '@heroagent/crypto';

/** Seals values (access tokens, data keys) to the gateway: nothing leaves vault-proxy in clear. */
export class GatewaySealing {
  constructor(private readonly gatewayPublicKey: KeyObject) {}

  /** A value for the gateway's eyes only. */
  toGateway(value: Uint8Array, purpose: string): SealedBox {
    return seal(value, this.gatewayPublicKey, {
      sender: 'vault-proxy',
      recipient: 'gateway',
      purpose,
    });
  }
}
