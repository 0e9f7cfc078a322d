import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AUDIT_CHECKPOINT_PURPOSE, type SignedCheckpoint } from '@heroagent/contracts';
import {
  ed25519Verify,
  fromBase64Url,
  generateSigningKey,
  signJson,
  type SigningKey,
} from '@heroagent/crypto';
import { assertWebhookEndpoint, webhookRequest } from './checkpoint-webhook.js';
import { DestinationGuard } from './destination-guard.js';

const publicOnly = new DestinationGuard(false);
const privateAllowed = new DestinationGuard(true);
/** A name resolving to loopback and a private address together. */
const mixed = new DestinationGuard(true, () =>
  Promise.resolve([
    { address: '127.0.0.1', family: 4 },
    { address: '10.0.0.5', family: 4 },
  ]),
);

function signedCheckpoint(key: SigningKey): SignedCheckpoint {
  const checkpoint = {
    v: 2 as const,
    tenantId: randomUUID(),
    index: 1,
    treeSize: 3,
    rootHash: 'a'.repeat(64),
    chainHead: 'b'.repeat(64),
    timestamp: '2026-12-01T00:00:00.000Z',
    previous: null,
  };
  return { checkpoint, signature: signJson(checkpoint, AUDIT_CHECKPOINT_PURPOSE, key) };
}

describe('checkpoint webhooks', () => {
  it('are https; plain http only to loopback, and only where private networks are allowed', async () => {
    await expect(assertWebhookEndpoint(publicOnly, 'https://8.8.8.8/hook')).resolves.toMatchObject({
      host: '8.8.8.8',
    });
    await expect(assertWebhookEndpoint(publicOnly, 'http://8.8.8.8/hook')).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'a webhook must be https',
    });
    await expect(
      assertWebhookEndpoint(privateAllowed, 'http://127.0.0.1:9/hook'),
    ).resolves.toMatchObject({ host: '127.0.0.1' });
    await expect(
      assertWebhookEndpoint(privateAllowed, 'http://10.0.0.5/hook'),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    // Loopback by address, not by name: every address the name has must be loopback.
    await expect(assertWebhookEndpoint(mixed, 'http://localhost:9/hook')).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'a webhook must be https',
    });
    // The network guard of every destination: no private, loopback or metadata addresses.
    for (const endpoint of ['https://127.0.0.1/hook', 'https://169.254.169.254/latest'])
      await expect(assertWebhookEndpoint(publicOnly, endpoint)).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    await expect(
      assertWebhookEndpoint(publicOnly, 'https://user:secret@8.8.8.8/hook'),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('sign the body, the destination and the time with the audit key', () => {
    const key = generateSigningKey();
    const signed = signedCheckpoint(key);
    const destinationId = randomUUID();
    const now = new Date('2026-12-01T01:00:00.000Z');
    const { body, signature } = webhookRequest(destinationId, signed, key, now);
    expect(JSON.parse(body)).toEqual({
      type: 'heroagent.audit.checkpoint',
      destinationId,
      checkpoint: signed.checkpoint,
      signature: signed.signature,
    });
    const [, t, kid, sig] = /^t=(\d+), kid=(.+), ed25519=(.+)$/.exec(signature)!;
    expect([Number(t), kid]).toEqual([now.getTime() / 1000, key.kid]);
    const message = (id: string, text: string) =>
      Buffer.from(`heroagent.audit.webhook.v1\n${t}\n${id}\n${text}`);
    expect(ed25519Verify(message(destinationId, body), fromBase64Url(sig!)!, key.publicKey)).toBe(
      true,
    );
    // Not valid for another destination, or another body.
    expect(ed25519Verify(message(randomUUID(), body), fromBase64Url(sig!)!, key.publicKey)).toBe(
      false,
    );
    expect(
      ed25519Verify(
        message(destinationId, body.replace('"treeSize":3', '"treeSize":4')),
        fromBase64Url(sig!)!,
        key.publicKey,
      ),
    ).toBe(false);
  });
});
