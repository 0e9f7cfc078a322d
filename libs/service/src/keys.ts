import { z } from 'zod';
import {
  fromBase64Url,
  sealingKeyFromRaw,
  signingKeyFromSeed,
  type SealingKey,
  type SigningKey,
} from '@heroagent/crypto';

const raw32 = z.string().transform((text, context) => {
  const bytes = fromBase64Url(text.trim());
  if (bytes?.length !== 32) {
    context.addIssue({ code: 'custom', message: 'must be 32 bytes as unpadded base64url' });
    return z.NEVER;
  }
  return bytes;
});

/** An Ed25519 signing key given as its base64url seed; the key id is its fingerprint. */
export const signingKeyEnvSchema = raw32.transform((seed): SigningKey => signingKeyFromSeed(seed));

/** An X25519 sealing key given as its base64url private key. */
export const sealingKeyEnvSchema = raw32.transform((raw): SealingKey => sealingKeyFromRaw(raw));
