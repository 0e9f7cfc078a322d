import { randomBytes } from 'node:crypto';
import { nkeys } from '@nats-io/transport-node';
import { stringify } from 'yaml';
import { NKEYS_CONFIGMAP, SYSTEM_SECRET } from './nats-config.js';

/** The Secret holding each NATS user's nkey seed (deploy/k8s mounts one per pod). */
export const NKEYS_SECRET = 'heroagent-nats-nkeys';

/** A password nats-server takes as a `$VARIABLE`: a letter, then letters and digits. */
function systemPassword(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(40);
  return [...bytes].map((byte, index) => alphabet[byte % (index === 0 ? 52 : 62)]).join('');
}

/**
 * The NATS credentials of a Kubernetes install, fresh: a Secret with a new nkey seed for each of
 * `users` (heroagent.conf's), the ConfigMap of their public keys nats-server reads, and the system
 * user's Secret. Printed by `pnpm nats:nkeys` for `kubectl apply -f -` or a secret store; nothing
 * is written to disk.
 */
export function renderNatsCredentials(users: readonly string[]): string {
  const pairs = users.map((user) => [user, nkeys.createUser()] as const);
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const documents = [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: NKEYS_SECRET, namespace: 'heroagent' },
      type: 'Opaque',
      stringData: Object.fromEntries(pairs.map(([user, pair]) => [user, decode(pair.getSeed())])),
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: NKEYS_CONFIGMAP, namespace: 'heroagent' },
      data: Object.fromEntries(pairs.map(([user, pair]) => [user, pair.getPublicKey()])),
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: SYSTEM_SECRET, namespace: 'heroagent' },
      type: 'Opaque',
      stringData: { password: systemPassword() },
    },
  ];
  return documents.map((document) => stringify(document)).join('---\n');
}
