import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer secrets the gateway hands to browsers (session tokens, flow bindings, OAuth state,
 * invitation tokens): 32 random bytes, base64url. Only their SHA-256 is stored, so a copy of the
 * database opens no session.
 */
export function newBearerSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The stored form of a bearer secret. */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** The same, as the hex that row-level security settings carry. */
export function hashSecretHex(secret: string): string {
  return hashSecret(secret).toString('hex');
}

/** A well-formed bearer secret (what {@link newBearerSecret} makes), checked before any lookup. */
export function isBearerSecret(value: string | undefined): value is string {
  return value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value);
}

/**
 * The CSRF token of a session: derived from its secret, so it needs no storage, changes when the
 * session rotates, and is useless without the (HttpOnly) session cookie it belongs to.
 */
export function csrfTokenOf(sessionSecret: string): string {
  return createHmac('sha256', sessionSecret).update('heroagent csrf v1').digest('base64url');
}

/** Compares a presented CSRF token with the session's, in constant time. */
export function csrfTokenMatches(sessionSecret: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(csrfTokenOf(sessionSecret));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
