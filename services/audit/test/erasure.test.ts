import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_EVENT_PURPOSE,
  personalFieldsContext,
  queryAuditRecords,
  verifyAuditChain,
  type AuditEvent,
  type SignedAuditEvent,
} from '@heroagent/contracts';
import { verifyBundleLines } from '@heroagent/audit-chain';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import {
  CryptoError,
  decryptValue,
  ed25519Fingerprint,
  encryptValue,
  generateDataKey,
  keyRing,
  signJson,
} from '@heroagent/crypto';
import { sql } from '@heroagent/db';
import type { RunningService } from '@heroagent/service';
import { createLogger } from '@heroagent/telemetry';
import { startAudit } from '../src/audit.js';
import { auditConfigSchema } from '../src/config.js';
import { startAuditFixture, viewer, type AuditFixture } from './fixture.js';

describe(
  'erasure by key destruction: personal fields go, the record still verifies',
  { timeout: 60_000 },
  () => {
    let fixture: AuditFixture;
    let audit: RunningService;
    const tenantId = randomUUID();
    const bob = randomUUID();
    // Bob's own data key, as the platform's key store holds it; erasing Bob destroys it.
    let bobsKeys = keyRing(new Map([[1, generateDataKey()]]));
    const personal = {
      to: 'carol@example.com',
      subject: 'Lunch on Tuesday?',
      contact: 'Carol Example',
    };

    /** What a producer does: encrypt the personal fields under the person's key, then sign. */
    function eventWithPersonalFields(): SignedAuditEvent {
      const id = randomUUID();
      const event: AuditEvent = {
        ...signedTestEvent(fixture.gatewayKey, tenantId, { userId: bob }).event,
        id,
        action: 'gmail.messages.send',
        personal: {
          key: { scope: 'user', id: bob, version: 1 },
          ciphertext: encryptValue(
            Buffer.from(JSON.stringify(personal)),
            bobsKeys,
            personalFieldsContext(id),
          ),
        },
      };
      return { event, signature: signJson(event, AUDIT_EVENT_PURPOSE, fixture.gatewayKey) };
    }

    beforeAll(async () => {
      fixture = await startAuditFixture();
      audit = await startAudit(
        auditConfigSchema.parse(fixture.env()),
        createLogger({ service: 'audit', level: 'silent' }),
      );
      for (let index = 0; index < 6; index += 1) {
        await fixture.publish(
          index % 2 === 0
            ? eventWithPersonalFields()
            : signedTestEvent(fixture.gatewayKey, tenantId),
        );
      }
      await fixture.waitForCount(6, tenantId);
    });

    afterAll(async () => {
      await audit?.close();
      await fixture?.close();
    });

    it('stores personal fields only as ciphertext, readable with the key', async () => {
      const { rows } = await sql<{
        envelope: string;
      }>`select envelope from audit.events where tenant_id = ${tenantId}`.execute(fixture.admin);
      expect(rows.map((row) => row.envelope).join('\n')).not.toMatch(/carol|Lunch|Example/);
      const { records } = await fixture.client.request(queryAuditRecords, {
        viewer: viewer(tenantId),
      });
      const sent = records.find((record) => record.envelope.event.personal !== undefined)!.envelope
        .event;
      const opened = decryptValue(
        sent.personal!.ciphertext,
        bobsKeys,
        personalFieldsContext(sent.id),
      );
      expect(JSON.parse(opened.toString('utf8'))).toEqual(personal);
    });

    it('once the key is destroyed, the fields cannot be read, and every signature, hash and checkpoint still verifies', async () => {
      bobsKeys = keyRing(new Map([[2, generateDataKey()]]));
      const { records } = await fixture.client.request(queryAuditRecords, {
        viewer: viewer(tenantId),
      });
      for (const record of records.filter(
        (candidate) => candidate.envelope.event.personal !== undefined,
      )) {
        const { event } = record.envelope;
        expect(() =>
          decryptValue(event.personal!.ciphertext, bobsKeys, personalFieldsContext(event.id)),
        ).toThrow(CryptoError);
      }
      expect(
        await fixture.client.request(verifyAuditChain, { viewer: viewer(tenantId) }),
      ).toMatchObject({ ok: true, events: 6 });
      const report = await verifyBundleLines(await fixture.exportBundle(tenantId), {
        trustedAuditKeys: new Set([ed25519Fingerprint(fixture.auditKey.publicKey)]),
        requireCoveredTail: true,
      });
      expect(report).toMatchObject({ ok: true, events: 6 });
    });

    it('quarantines an event that carries personal fields in clear', async () => {
      const id = randomUUID();
      const clear = {
        ...signedTestEvent(fixture.gatewayKey, tenantId).event,
        id,
        personal: {
          key: { scope: 'user', id: bob, version: 1 },
          ciphertext: JSON.stringify(personal),
        },
      } as unknown as AuditEvent;
      await fixture.publish({
        event: clear,
        signature: signJson(clear, AUDIT_EVENT_PURPOSE, fixture.gatewayKey),
      });
      const deadline = Date.now() + 10_000;
      let reason: string | undefined;
      while (Date.now() < deadline && reason === undefined) {
        reason = (
          await sql<{
            reason: string;
          }>`select reason from audit.quarantine where event_id = ${id}`.execute(fixture.admin)
        ).rows[0]?.reason;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(reason).toBe('MALFORMED');
      expect(await fixture.storedCount(tenantId)).toBe(6);
    });
  },
);
