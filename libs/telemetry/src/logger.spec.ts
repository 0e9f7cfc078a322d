import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { REDACTED, redactSecrets, redactString } from './redact.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return {
    lines,
    destination,
    logger: createLogger({ service: 'test', level: 'trace', destination }),
  };
}

const accessToken = 'ya29.a0AfB_byC-secret-access-token-value';
const refreshToken = '1//0gSecretRefreshTokenValue-abcdefgh';
const vaultToken = 'hvs.CAESIJ-secret-vault-token-value';
const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLWJ5dGVz';

describe('logger redaction', () => {
  it('never writes a token, whichever way it is logged', async () => {
    const { lines, logger } = capture();
    logger.info(
      { accessToken, headers: { authorization: `Bearer ${accessToken}` } },
      'calling Gmail',
    );
    logger.info(`refreshed with ${refreshToken} and ${vaultToken}`);
    logger.warn(
      { nested: [{ config: { refresh_token: refreshToken, client_secret: 'GOCSPX-abc' } }] },
      'x',
    );
    logger.error({ err: new Error(`provider rejected ${accessToken}`) }, 'refresh failed');
    logger
      .child({ token: vaultToken })
      .debug({ url: 'postgres://app:hunter2@db:5432/heroagent' }, 'db');
    logger.info({ body: `{"id_token":"${jwt}"}`, cookie: 'ha_session=s3cr3t' }, 'callback');
    logger.info(
      { pem: '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIK\n-----END PRIVATE KEY-----' },
      'key loaded',
    );
    logger.flush();
    await new Promise((resolve) => setImmediate(resolve));
    const output = lines.join('\n');
    expect(lines).toHaveLength(7);
    for (const secret of [
      accessToken,
      refreshToken,
      vaultToken,
      jwt,
      'GOCSPX-abc',
      'hunter2',
      's3cr3t',
      'MC4CAQAw',
    ]) {
      expect(output).not.toContain(secret);
    }
    expect(output).toContain(REDACTED);
    // What is not secret survives, so logs stay useful.
    expect(output).toContain('calling Gmail');
    expect(output).toContain('postgres://app:[REDACTED]@db:5432/heroagent');
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ level: 'info', service: 'test', accessToken: REDACTED });
  });

  it('keeps the bindings of every ancestor of a child logger', async () => {
    const { lines, logger } = capture();
    logger.child({ requestId: 'r1' }).child({ taskId: 't1', apiKey: 'k-123' }).info('step');
    logger.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.parse(lines[0]!)).toMatchObject({
      requestId: 'r1',
      taskId: 't1',
      apiKey: REDACTED,
    });
  });

  it('keeps the error type and message, redacted', async () => {
    const { lines, logger } = capture();
    logger.error({ err: new TypeError(`bad token ${accessToken}`) }, 'failed');
    logger.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.parse(lines[0]!)).toMatchObject({
      err: { type: 'TypeError', message: `bad token ${REDACTED}` },
    });
  });

  it('keeps error codes, and redacts OAuth codes and tokens in URLs', () => {
    expect(redactSecrets({ code: 'CONNECTION_BROKEN', authorizationCode: '4/0Ab-secret' })).toEqual(
      {
        code: 'CONNECTION_BROKEN',
        authorizationCode: REDACTED,
      },
    );
    expect(redactString('GET /oauth/callback?state=abc&code=4/0AbSecret&scope=x')).toBe(
      `GET /oauth/callback?state=${REDACTED}&code=${REDACTED}&scope=x`,
    );
    expect(redactString('GET /v1/auth/google/start?invitation=Zm9vYmFy&returnTo=/')).toBe(
      `GET /v1/auth/google/start?invitation=${REDACTED}&returnTo=/`,
    );
    expect(redactString('https://oauth2.googleapis.com/revoke?token=1%2F%2Fsecret')).toBe(
      `https://oauth2.googleapis.com/revoke?token=${REDACTED}`,
    );
  });

  it('keeps names and counts of secrets, which are not secret', () => {
    expect(
      redactSecrets({
        tokenType: 'Bearer',
        kid: 'gateway-1',
        idempotencyKey: 'task:1',
        expiresAt: 'soon',
      }),
    ).toEqual({
      tokenType: 'Bearer',
      kid: 'gateway-1',
      idempotencyKey: 'task:1',
      expiresAt: 'soon',
    });
  });

  it('cuts cycles and never prints buffers', () => {
    const cyclic: Record<string, unknown> = { name: 'a', bytes: Buffer.from('secret') };
    cyclic.self = cyclic;
    expect(redactSecrets(cyclic)).toEqual({ name: 'a', bytes: '[6 bytes]', self: '[Circular]' });
  });

  it('redacts token shapes inside free text', () => {
    expect(redactString(`Authorization: Bearer ${accessToken}`)).toBe(`Authorization: ${REDACTED}`);
    expect(redactString('nats://gateway:pw123@127.0.0.1:4222')).toBe(
      'nats://gateway:[REDACTED]@127.0.0.1:4222',
    );
  });
});
