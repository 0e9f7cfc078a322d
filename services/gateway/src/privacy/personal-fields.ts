import {
  personalFieldsContentSchema,
  personalFieldsContext,
  type AuditEvent,
  type PersonalFieldsContent,
} from '@heroagent/contracts';
import { ownerKey, type KeyOwner, type PersonalKeys } from './personal-keys.js';

/** An event's personal fields as a viewer gets them: opened, or erased with their owner's key. */
export type OpenedPersonalFields = PersonalFieldsContent | 'erased';

/**
 * Opens the personal fields of audit events for someone the gateway already let see them (each
 * key fetched once). Decrypted here, where they are shown, and nowhere else: audit and the SIEM
 * only ever hold the ciphertext.
 */
export async function openPersonalFields(
  keys: PersonalKeys,
  events: readonly AuditEvent[],
  /** The viewer's tenant: an event of another (audit answering wrongly) is never opened. */
  tenantId: string,
): Promise<Map<string, OpenedPersonalFields>> {
  const sealed = events.filter(
    (event) => event.personal !== undefined && event.tenantId === tenantId,
  );
  const ownerOf = (event: AuditEvent): KeyOwner => ({
    tenantId: event.tenantId,
    scope: event.personal!.key.scope,
    id: event.personal!.key.id,
  });
  const sealers = await keys.readers(sealed.map(ownerOf));
  const opened = new Map<string, OpenedPersonalFields>();
  for (const event of sealed) {
    const sealer = sealers.get(ownerKey(ownerOf(event)))!;
    const { ciphertext } = event.personal!;
    const text = sealer.open(personalFieldsContext(event.id), ciphertext);
    opened.set(
      event.id,
      typeof text === 'string'
        ? personalFieldsContentSchema.parse(JSON.parse(text) as unknown)
        : 'erased',
    );
  }
  return opened;
}
