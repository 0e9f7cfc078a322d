import { ContractError, type SignedCheckpoint } from '@heroagent/contracts';
import { canonicalJson, ed25519Sign, toBase64Url, type SigningKey } from '@heroagent/crypto';
import { assertEndpointAllowed } from './destination-guard.js';

/** What a webhook's signature covers, before the timestamp, destination id and body. */
export const WEBHOOK_SIGNATURE_CONTEXT = 'heroagent.audit.webhook.v1';

/** The header carrying a webhook body's signature. */
export const WEBHOOK_SIGNATURE_HEADER = 'heroagent-signature';

/**
 * A webhook is HTTPS, checked against the same network guard as every destination. Plain HTTP
 * only where the operator lets tenants reach private networks, and only to a loopback host (a
 * receiver beside a development deployment, or a test).
 */
export async function assertWebhookEndpoint(
  endpoint: string,
  allowPrivate: boolean,
): Promise<void> {
  await assertEndpointAllowed(endpoint, allowPrivate);
  const url = new URL(endpoint);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(allowPrivate && loopback)) {
    throw new ContractError('INVALID_REQUEST', 'a webhook must be https', [
      { path: 'endpoint', message: 'not https' },
    ]);
  }
}

/**
 * The POST for one checkpoint: a JSON body holding the signed checkpoint as the witness keeps it
 * (`pnpm audit:verify --since` reads it), and a signature over the body by the audit key —
 * `heroagent-signature: t=<unix seconds>, kid=<key id>, ed25519=<base64url>`, over
 * `heroagent.audit.webhook.v1 \n t \n destination id \n body` — so a receiver pinning the audit
 * key knows the POST came from audit, for it, and when.
 */
export function webhookRequest(
  destinationId: string,
  signed: SignedCheckpoint,
  key: SigningKey,
  now: Date,
): { body: string; signature: string } {
  const body = canonicalJson({
    type: 'heroagent.audit.checkpoint',
    destinationId,
    checkpoint: signed.checkpoint,
    signature: signed.signature,
  });
  const t = Math.floor(now.getTime() / 1000);
  const message = Buffer.from(
    `${WEBHOOK_SIGNATURE_CONTEXT}\n${t}\n${destinationId}\n${body}`,
    'utf8',
  );
  const sig = toBase64Url(ed25519Sign(message, key.privateKey));
  return { body, signature: `t=${t}, kid=${key.kid}, ed25519=${sig}` };
}

/** POSTs one checkpoint; resolves whether the receiver answered 2xx, and why not. */
export async function postCheckpoint(
  endpoint: string,
  headers: Readonly<Record<string, string>>,
  request: { body: string; signature: string },
  timeoutMs: number,
): Promise<{ delivered: boolean; error?: string }> {
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/json',
        [WEBHOOK_SIGNATURE_HEADER]: request.signature,
      },
      body: request.body,
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return response.ok
      ? { delivered: true }
      : { delivered: false, error: `the webhook answered ${response.status}` };
  } catch (error) {
    return {
      delivered: false,
      error: `the webhook did not answer: ${error instanceof Error ? error.message : 'unknown error'}`,
    };
  }
}
