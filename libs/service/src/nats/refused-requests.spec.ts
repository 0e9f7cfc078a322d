import { describe, expect, it } from 'vitest';
import type { Logger } from '@heroagent/telemetry';
import { RefusedRequests } from './refused-requests.js';

function recordingLogger() {
  const warnings: { fields: Record<string, unknown>; message: string }[] = [];
  const logger = {
    warn: (fields: Record<string, unknown>, message: string) => warnings.push({ fields, message }),
  } as unknown as Logger;
  return { logger, warnings };
}

describe('RefusedRequests', () => {
  it('counts every dropped request by subject and reason', () => {
    const { logger } = recordingLogger();
    const refusals = new RefusedRequests('gateway', logger, () => 0);
    refusals.count('gateway.actions.execute', 'REPLY_OUTSIDE_CALLER_INBOX', 'audit.events.x');
    refusals.count('gateway.actions.execute', 'REPLY_OUTSIDE_CALLER_INBOX', '$JS.API.INFO');
    refusals.count('gateway.actions.execute', 'NO_REPLY_SUBJECT', undefined);
    refusals.count('gateway.tasks.report', 'NO_REPLY_SUBJECT', undefined);
    expect(refusals.total()).toBe(4);
    expect(refusals.total('gateway.actions.execute')).toBe(3);
    expect(refusals.total('gateway.actions.execute', 'NO_REPLY_SUBJECT')).toBe(1);
    expect(refusals.total('agent.tasks.start')).toBe(0);
  });

  it('warns at most once a minute per subject and reason, saying how many it did not log', () => {
    const { logger, warnings } = recordingLogger();
    let now = 0;
    const refusals = new RefusedRequests('gateway', logger, () => now);
    for (let index = 0; index < 1000; index += 1)
      refusals.count('gateway.actions.execute', 'REPLY_OUTSIDE_CALLER_INBOX', 'x'.repeat(500));
    refusals.count('gateway.actions.get', 'REPLY_OUTSIDE_CALLER_INBOX', 'y');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]!.fields).toMatchObject({
      code: 'NATS_REQUEST_REFUSED',
      reason: 'REPLY_OUTSIDE_CALLER_INBOX',
      subject: 'gateway.actions.execute',
      notLoggedSinceLast: 0,
    });
    // The attacker's reply subject is shown, shortened.
    expect(String(warnings[0]!.fields.reply)).toHaveLength(120);
    now = 60_000;
    refusals.count('gateway.actions.execute', 'REPLY_OUTSIDE_CALLER_INBOX', 'z');
    expect(warnings).toHaveLength(3);
    expect(warnings[2]!.fields).toMatchObject({ notLoggedSinceLast: 999 });
    expect(refusals.total()).toBe(1002);
  });
});
