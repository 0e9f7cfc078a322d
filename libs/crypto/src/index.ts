export { CryptoError, type CryptoErrorCode } from './errors.js';
export { toBase64Url, fromBase64Url } from './encoding.js';
export { canonicalJson, canonicalJsonBytes, type JsonValue } from './canonical-json.js';
export {
  generateSigningKey,
  signingKeyFromSeed,
  ed25519PublicKeyFromRaw,
  exportEd25519Seed,
  exportEd25519PublicKey,
  ed25519Fingerprint,
  ed25519Sign,
  ed25519Verify,
  signJson,
  verifyJson,
  type SigningKey,
  type VerificationKey,
  type JsonSignature,
  type VerificationKeyResolver,
} from './ed25519.js';
export {
  generateSealingKey,
  sealingKeyFromRaw,
  x25519PublicKeyFromRaw,
  exportX25519PrivateKey,
  exportX25519PublicKey,
  x25519SharedSecret,
  seal,
  open,
  type SealingKey,
  type SealContext,
  type SealedBox,
} from './sealed-box.js';
export {
  generateDataKey,
  keyRing,
  encryptValue,
  decryptValue,
  wrapDataKey,
  unwrapDataKey,
  ciphertextKeyVersion,
  rewrapValue,
  keyedDigest,
  keyedDigestMatches,
  keyedDigestVersion,
  type KeyRing,
} from './envelope.js';
export { sha256Hex, sha256 } from './hash.js';
