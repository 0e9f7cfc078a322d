import { describe, expect, it } from 'vitest';
import { checkIdToken, IdTokenRefused } from './id-token.js';

const NOW = new Date('2026-12-05T12:00:00Z');
const nowS = Math.floor(NOW.getTime() / 1000);
const expected = {
  issuers: ['https://accounts.google.com', 'accounts.google.com'],
  clientId: 'client-1.apps.googleusercontent.com',
  nonce: 'the-nonce-of-this-flow',
  now: NOW,
};
const good = {
  iss: 'https://accounts.google.com',
  aud: expected.clientId,
  sub: '1234567890',
  email: 'ada@example.com',
  email_verified: true,
  name: 'Ada',
  nonce: expected.nonce,
  iat: nowS - 5,
  exp: nowS + 3600,
};
const jwt = (claims: object) =>
  ['{"alg":"RS256"}', JSON.stringify(claims), 'sig']
    .map((part, index) => (index < 2 ? Buffer.from(part).toString('base64url') : part))
    .join('.');
const refusal = (claims: object | string) => {
  try {
    checkIdToken(typeof claims === 'string' ? claims : jwt(claims), expected);
  } catch (error) {
    if (error instanceof IdTokenRefused) return error.message;
    throw error;
  }
  return 'accepted';
};

describe('checkIdToken', () => {
  it("accepts Google's ID token for this client and flow, either spelling of the issuer", () => {
    expect(checkIdToken(jwt(good), expected)).toEqual({
      iss: 'https://accounts.google.com',
      sub: '1234567890',
      email: 'ada@example.com',
      emailVerified: true,
      name: 'Ada',
    });
    expect(refusal({ ...good, iss: 'accounts.google.com' })).toBe('accepted');
  });

  it('refuses one for another issuer, client, authorized party or flow, expired, or from the future', () => {
    expect(refusal({ ...good, iss: 'https://evil.example' })).toMatch(/another issuer/);
    expect(refusal({ ...good, aud: 'other-client' })).toMatch(/another audience/);
    expect(refusal({ ...good, aud: [expected.clientId, 'other'], azp: 'other' })).toMatch(
      /another authorized party/,
    );
    expect(refusal({ ...good, nonce: 'another-flow' })).toMatch(/nonce/);
    expect(refusal({ ...good, exp: nowS - 301 })).toMatch(/expired/);
    expect(refusal({ ...good, iat: nowS + 301 })).toMatch(/future/);
  });

  it('refuses none at all, one that is not a JWT, and one without a subject or email', () => {
    expect(() => checkIdToken(undefined, expected)).toThrow(IdTokenRefused);
    expect(refusal('not.a-jwt')).toMatch(/not a JWT/);
    expect(refusal({ ...good, sub: '' })).toMatch(/no subject/);
    expect(refusal({ ...good, email: undefined })).toMatch(/no email/);
  });
});
