import { decryptValue, encryptValue, keyRing, type KeyRing } from '@heroagent/crypto';

/**
 * Keeps SIEM destination headers (API keys, bearer tokens) encrypted at rest with the audit
 * service's secrets key, bound to the tenant and destination so a ciphertext cannot be moved.
 */
export class HeaderVault {
  private readonly ring: KeyRing;

  constructor(secretsKey: Uint8Array) {
    this.ring = keyRing(new Map([[1, secretsKey]]));
  }

  seal(tenantId: string, destinationId: string, headers: Record<string, string>): string {
    return encryptValue(
      Buffer.from(JSON.stringify(headers), 'utf8'),
      this.ring,
      context(tenantId, destinationId),
    );
  }

  open(tenantId: string, destinationId: string, ciphertext: string): Record<string, string> {
    return JSON.parse(
      decryptValue(ciphertext, this.ring, context(tenantId, destinationId)).toString('utf8'),
    ) as Record<string, string>;
  }
}

function context(tenantId: string, destinationId: string): string {
  return `siem-headers:${tenantId}:${destinationId}`;
}
