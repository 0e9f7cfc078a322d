import { createHash } from 'node:crypto';

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** Lower-case hex SHA-256 of the concatenation of `parts`. */
export function sha256Hex(...parts: Uint8Array[]): string {
  return sha256(...parts).toString('hex');
}
