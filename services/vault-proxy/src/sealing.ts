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

  /** Opens a value the gateway sealed to vault-proxy; anything else is INVALID_REQUEST. */
  fromGateway(box: SealedBox, purpose: string): Buffer {
    try {
      return open(box, this.own, { sender: 'gateway', recipient: 'vault-proxy', purpose });
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      throw new ContractError('INVALID_REQUEST', 'the sealed value does not open for vault-proxy', [
        { path: 'grant', message: 'not sealed to vault-proxy' },
      ]);
    }
  }
}
