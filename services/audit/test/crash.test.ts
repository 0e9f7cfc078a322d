import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '@heroagent/contracts';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import { sql } from '@heroagent/db';
import { startAuditFixture, viewer, type AuditFixture } from './fixture.js';

const MAIN = fileURLToPath(new URL('../dist/src/main.js', import.meta.url));
const EVENTS = 3000;

/** The built audit service as its own process, so it can be killed mid-batch. */
function startAuditProcess(env: Record<string, string>): {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<unknown>;
} {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('audit ingest started')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`audit exited (${code}) before it was ready:\n${output}`)),
    );
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, ready, exited };
}

describe('killing the audit service mid-stream', { timeout: 180_000 }, () => {
  let fixture: AuditFixture;
  const tenants = [randomUUID(), randomUUID(), randomUUID()];

  beforeAll(async () => {
    await access(MAIN).catch(() => {
      throw new Error('services/audit is not built: run `pnpm build` (pnpm test does) first');
    });
    // Unacknowledged messages come back after 3 s, not 30: the killed batch is redelivered soon.
    fixture = await startAuditFixture({ stream: { ackWaitMs: 3_000 } });
  });
  afterAll(() => fixture?.close());

  it('loses no event and duplicates none across a SIGKILL and a restart; every chain verifies', async () => {
    const env = fixture.env({
      LOG_LEVEL: 'info',
      AUDIT_INGEST_BATCH: '200',
      AUDIT_CHECKPOINT_EVERY_EVENTS: '250',
    });
    const first = startAuditProcess(env);
    await first.ready;
    const envelopes = Array.from({ length: EVENTS }, (_, index) =>
      signedTestEvent(fixture.gatewayKey, tenants[index % tenants.length]!),
    );
    let published = 0;
    const publishing = (async () => {
      for (let offset = 0; offset < envelopes.length; offset += 50) {
        await Promise.all(
          envelopes.slice(offset, offset + 50).map((envelope) => fixture.publish(envelope)),
        );
        published = offset + 50;
      }
    })();
    // Kill it once it is busy storing, while events keep arriving.
    while ((await fixture.storedCount()) < 300)
      await new Promise((resolve) => setTimeout(resolve, 20));
    first.child.kill('SIGKILL');
    await first.exited;
    const storedAtKill = await fixture.storedCount();
    expect(storedAtKill).toBeLessThan(EVENTS);
    const second = startAuditProcess(env);
    await second.ready;
    await publishing;
    expect(published).toBeGreaterThanOrEqual(EVENTS);
    await fixture.waitForCount(EVENTS, undefined, 90_000);
    // Give redeliveries of the killed batch time to arrive, then count again.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const { rows } = await sql<{ total: number; distinct: number }>`
      select count(*)::int as total, count(distinct event_id)::int as distinct from audit.events`.execute(
      fixture.admin,
    );
    expect(rows[0]).toEqual({ total: EVENTS, distinct: EVENTS });
    const sent = new Set(envelopes.map((envelope) => envelope.event.id));
    const stored = await sql<{ event_id: string }>`select event_id from audit.events`.execute(
      fixture.admin,
    );
    expect(stored.rows.every((row) => sent.has(row.event_id))).toBe(true);
    for (const tenantId of tenants) {
      const report = await fixture.client.request(
        verifyAuditChain,
        { viewer: viewer(tenantId) },
        { timeoutMs: 30_000 },
      );
      expect(report, tenantId).toMatchObject({ ok: true, events: EVENTS / tenants.length });
    }
    second.child.kill('SIGTERM');
    await second.exited;
  });
});
