import type { ServiceName } from '@heroagent/contracts';

const SUBJECT_PREFIX: Record<ServiceName, string> = {
  gateway: 'gateway',
  agent: 'agent',
  'vault-proxy': 'vault',
  audit: 'audit',
};

/**
 * Every NATS user of deploy/nats/heroagent.conf: the four services, the gateway's audit outbox
 * relay (publishes `audit.events.*` only) and the provisioning identity (creates the audit stream
 * and its consumer, at install time).
 */
export const NATS_IDENTITIES = [
  'gateway',
  'gateway-relay',
  'agent',
  'vault-proxy',
  'audit',
  'provisioner',
] as const;
/** One NATS user of deploy/nats. */
export type NatsIdentity = (typeof NATS_IDENTITIES)[number];

/** The service that answers a subject: its first token names it (`vault` is vault-proxy). */
export function serviceOfSubject(subject: string): string {
  const prefix = subject.split('.')[0];
  const entry = Object.entries(SUBJECT_PREFIX).find(([, value]) => value === prefix);
  return entry?.[0] ?? 'unknown';
}

/** The subject prefix a service answers on. */
export function subjectPrefixOf(service: ServiceName): string {
  return SUBJECT_PREFIX[service];
}

/**
 * Each identity's private reply inbox prefix: only it may subscribe there, and a service answers
 * a request only on a reply subject under the inbox of a caller its contract names.
 */
export function inboxPrefixOf(identity: NatsIdentity): string {
  return `_INBOX.${identity}`;
}

/** The environment variable deploy/nats/heroagent.conf reads an identity's password from. */
export function natsPasswordVariable(identity: NatsIdentity): string {
  return `HEROAGENT_NATS_${identity.toUpperCase().replaceAll('-', '_')}_PASSWORD`;
}

/** The environment variable an nkey configuration (deploy/k8s) reads an identity's public key from. */
export function natsNkeyVariable(identity: NatsIdentity): string {
  return `HEROAGENT_NATS_${identity.toUpperCase().replaceAll('-', '_')}_NKEY`;
}
