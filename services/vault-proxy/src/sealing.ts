import type { KeyObject } from 'node:crypto';
import { ContractError } from '@heroagent/contracts';
import { CryptoError, open, seal, type SealedBox, type SealingKey } from '@heroagent/crypto';

/** Seals values to the gateway and opens what the gateway sealed to vault-proxy. */
export class GatewaySealing {
  constructor(
    private readonly own: SealingKey,
    private readonly gatewayPublicKey: KeyObject,
  ) {}

  /** A value for the gateway's eyes only. */
  toGateway(value: Uint8Array, purpose: string): SealedBox {
    return seal(value, this.gatewayPublicKey, {
      sender: 'vault-proxy',
      recipient: 'gateway',
      purpose,
    });
  }
}
