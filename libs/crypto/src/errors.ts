/** Every way a cryptographic operation in HeroAgent can refuse its input. */
export type CryptoErrorCode =
  | 'CANONICALIZATION_FAILED'
  | 'INVALID_KEY'
  | 'SIGNATURE_INVALID'
  | 'UNKNOWN_KEY'
  | 'DECRYPTION_FAILED'
  | 'MALFORMED_CIPHERTEXT';

/** The one exception type of libs/crypto; `code` says what was wrong, never what the secret was. */
export class CryptoError extends Error {
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CryptoError';
  }
}
