import { fromBase64Url } from '@heroagent/crypto';

/** The claims of an ID token the gateway relies on. */
export interface IdTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly name: string | null;
}

/** Why an ID token was refused. */
export class IdTokenRefused extends Error {
  constructor(reason: string) {
    super(`the ID token was refused: ${reason}`);
    this.name = 'IdTokenRefused';
  }
}

const CLOCK_SKEW_S = 300;

/**
 * Checks an ID token vault-proxy received straight from the provider's token endpoint over TLS. OpenID
 * Connect Core §3.1.3.7 lets such a client rely on TLS for the issuer in place of the signature;
 * every claim is still checked: issuer, audience (and `azp` when several), expiry, issue time,
 * and the nonce this flow sent, so a token minted for another flow or client is refused.
 */
export function checkIdToken(
  idToken: unknown,
  expected: { issuers: readonly string[]; clientId: string; nonce: string; now: Date },
): IdTokenClaims {
  if (typeof idToken !== 'string') throw new IdTokenRefused('the provider returned none');
  const parts = idToken.split('.');
  const payload = parts.length === 3 ? fromBase64Url(parts[1]!) : undefined;
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(payload?.toString('utf8') ?? '') as Record<string, unknown>;
  } catch {
    throw new IdTokenRefused('it is not a JWT');
  }
  if (typeof claims !== 'object' || claims === null) throw new IdTokenRefused('it is not a JWT');
  const nowS = Math.floor(expected.now.getTime() / 1000);
  if (typeof claims.iss !== 'string' || !expected.issuers.includes(claims.iss)) {
    throw new IdTokenRefused('another issuer');
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(expected.clientId)) throw new IdTokenRefused('another audience');
  if (audiences.length > 1 && claims.azp !== expected.clientId) {
    throw new IdTokenRefused('another authorized party');
  }
  if (typeof claims.exp !== 'number' || claims.exp + CLOCK_SKEW_S < nowS) {
    throw new IdTokenRefused('expired');
  }
  if (typeof claims.iat !== 'number' || claims.iat - CLOCK_SKEW_S > nowS) {
    throw new IdTokenRefused('issued in the future');
  }
  if (claims.nonce !== expected.nonce) throw new IdTokenRefused('the nonce does not match');
  if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 255) {
    throw new IdTokenRefused('no subject');
  }
  if (typeof claims.email !== 'string' || claims.email.length > 320) {
    throw new IdTokenRefused('no email address (the email scope is required)');
  }
  return {
    iss: claims.iss,
    sub: claims.sub,
    email: claims.email,
    emailVerified: claims.email_verified === true || claims.email_verified === 'true',
    name: typeof claims.name === 'string' ? claims.name.slice(0, 200) : null,
  };
}
