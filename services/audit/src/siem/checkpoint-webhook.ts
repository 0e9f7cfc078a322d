import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ContractError, type SignedCheckpoint } from '@heroagent/contracts';
import { canonicalJson, ed25519Sign, toBase64Url, type SigningKey } from '@heroagent/crypto';
import type { CheckedEndpoint, DestinationGuard } from './destination-guard.js';
import { isLoopbackAddress } from './special-addresses.js';

/** What a webhook's signature covers, before the timestamp, destination id and body. */
export const WEBHOOK_SIGNATURE_CONTEXT = 'heroagent.audit.webhook.v1';

/** The header carrying a webhook body's signature. */
export const WEBHOOK_SIGNATURE_HEADER = 'heroagent-signature';

/**
 * A webhook is HTTPS, checked against the same network guard as every destination. Plain HTTP
 * only where the operator lets tenants reach private networks, and only to a host whose every
 * address is loopback (a receiver beside a development deployment, or a test).
 */
export async function assertWebhookEndpoint(
  guard: DestinationGuard,
  endpoint: string,
): Promise<CheckedEndpoint> {
  const checked = await guard.check(endpoint);
  const loopback = checked.addresses.every(({ address }) => isLoopbackAddress(address));
  if (checked.url.protocol !== 'https:' && !(guard.allowPrivateNetworks && loopback)) {
    throw new ContractError('INVALID_REQUEST', 'a webhook must be https', [
      { path: 'endpoint', message: 'not https' },
    ]);
  }
  return checked;
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

/**
 * POSTs one checkpoint to the addresses the endpoint was checked at; resolves whether the
 * receiver answered 2xx, and why not. A redirect is not followed: it is a refusal.
 */
export function postCheckpoint(
  guard: DestinationGuard,
  checked: CheckedEndpoint,
  headers: Readonly<Record<string, string>>,
  request: { body: string; signature: string },
  timeoutMs: number,
): Promise<{ delivered: boolean; error?: string }> {
  const send = checked.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const failed = (error: Error) =>
      resolve({ delivered: false, error: `the webhook did not answer: ${error.message}` });
    const outgoing = send(
      checked.url,
      {
        agent: false,
        lookup: guard.lookupFor(checked),
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(request.body),
          [WEBHOOK_SIGNATURE_HEADER]: request.signature,
        },
        timeout: timeoutMs,
      },
      (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        resolve(
          status >= 200 && status < 300
            ? { delivered: true }
            : { delivered: false, error: `the webhook answered ${status}` },
        );
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    outgoing.on('error', failed);
    outgoing.end(request.body);
  });
}
