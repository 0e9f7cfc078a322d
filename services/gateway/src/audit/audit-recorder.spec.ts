import { describe, expect, it } from 'vitest';
import { AUDIT_EVENT_MAX_BYTES } from '@heroagent/contracts';
import { generateSigningKey } from '@heroagent/crypto';
import type { Kysely, Transaction } from '@heroagent/db';
import type { GatewayDatabase } from '../store-tables.js';
import { AuditRecorder } from './audit-recorder.js';

describe('the audit recorder', () => {
  // Never reached: an event too large for the stream is refused before anything is written.
  const db = {} as Kysely<GatewayDatabase>;
  const noKeys = {
    forPerson: () => Promise.reject(new Error('no personal fields here')),
    forTenant: () => Promise.reject(new Error('no personal fields here')),
  };
  const recorder = new AuditRecorder(db, generateSigningKey(), noKeys);
  // Never reached either: the event is refused before the transaction is used.
  const trx = {} as Transaction<GatewayDatabase>;
  const record = (reason: string) => ({
    tenantId: '6f1c1d5e-7d2a-4a8e-9a61-3c2b1e0f9a10',
    name: 'action.refused',
    actor: { type: 'agent' as const, id: 'task' },
    outcome: 'denied' as const,
    data: { reason },
  });

  it('refuses to write an event the audit stream would refuse, so it cannot block the outbox', async () => {
    await expect(recorder.within(record('x'.repeat(AUDIT_EVENT_MAX_BYTES)))(trx)).rejects.toThrow(
      expect.objectContaining({ code: 'INTERNAL' }) as Error,
    );
    expect(recorder.within(record('a reason')).eventId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
