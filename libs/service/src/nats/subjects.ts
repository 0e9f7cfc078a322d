import type { ServiceName } from '@heroagent/contracts';

const SUBJECT_PREFIX: Record<ServiceName, string> = {
  gateway: 'gateway',
  agent: 'agent',
  'vault-proxy': 'vault',
  audit: 'audit',
};

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

/** Each service's private reply inbox prefix, so no one else can subscribe to its replies. */
export function inboxPrefixOf(service: ServiceName): string {
  return `_INBOX.${service}`;
}
