import canonicalize from 'canonicalize';
import { CryptoError } from './errors.js';

/** A value that has exactly one JSON form: no undefined, no functions, no NaN or Infinity. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Serialises a JSON value per RFC 8785 (JSON Canonicalization Scheme): sorted keys, ECMAScript
 * number formatting, minimal string escaping. This is the only form HeroAgent ever signs or hashes.
 */
export function canonicalJson(value: JsonValue): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (error) {
    throw new CryptoError(
      'CANONICALIZATION_FAILED',
      `value has no canonical JSON form: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (text === undefined) {
    throw new CryptoError('CANONICALIZATION_FAILED', 'value has no JSON representation');
  }
  return text;
}

/** The UTF-8 bytes of {@link canonicalJson}. */
export function canonicalJsonBytes(value: JsonValue): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}
