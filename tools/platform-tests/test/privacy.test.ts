import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  queryAuditRecords,
  verifyAuditChain,
  type AuditRecord,
  type TaskEvent,
} from '@heroagent/contracts';
import { toolResults, type ChatRequest } from '@heroagent/doubles';
import { ME, startEvalPlatform, type EvalPlatform } from '../eval/eval-platform.js';

// What a person's words look like at rest, read as an operator with the database dump in hand:
// their request, the agent's rationales and what it wrote, the mail it read. Each marker is a
// word nothing else in the platform could contain.
const SAM = 'sam.okafor@example.org';
const MARKERS = {
  request: 'marmalade-zeppelin',
  mailSubject: 'Quince orchard walk',
  mailBody: 'bring-the-lantern-ferns',
  rationale: 'walrus-kettledrum',
  draftBody: 'tangerine-lighthouse',
  summary: 'periwinkle-semaphore',
  samsAddress: SAM,
};

/** The whole database (every schema, data only) as pg_dump writes it. */
function dump(platform: EvalPlatform): string {
  const run = spawnSync('pg_dump', ['--data-only', '--no-owner', platform.database.adminUrl], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`pg_dump failed: ${run.stderr}`);
  return run.stdout;
}

function found(text: string, markers: Record<string, string>): string[] {
  return Object.entries(markers)
    .filter(([, marker]) => text.toLowerCase().includes(marker.toLowerCase()))
    .map(([name]) => name);
}

// Personal data sealed with the person's key (gateway) and carried only encrypted in audit, then
// crypto-shredded by closing the account: read at rest, before and after, through the real
// gateway, vault-proxy, audit and agent.
describe('a person’s data at rest, and after their account is closed', { timeout: 120_000 }, () => {
  let platform: EvalPlatform;

  beforeAll(async () => {
    platform = await startEvalPlatform({ kind: 'scripted' });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('keeps no word of theirs in clear, shows it to them, and leaves nothing readable after closure', async () => {
    platform.gmail.addMessage({
      from: `Sam Okafor <${SAM}>`,
      to: ME,
      subject: `${MARKERS.mailSubject} on Saturday`,
      body: `Shall we walk the quince orchard? Please ${MARKERS.mailBody}.`,
      account: ME,
    });
    platform.model!.script(
      {
        toolCalls: [
          {
            name: 'gmail_messages_search',
            arguments: { query: `from:${SAM}`, rationale: `To find Sam's ${MARKERS.rationale}.` },
          },
        ],
      },
      (request: ChatRequest) => {
        const answer = JSON.parse(toolResults(request)[0]!.content) as {
          data: { messages: { id: string }[] };
        };
        return {
          toolCalls: [
            {
              name: 'gmail_messages_read',
              arguments: {
                messageId: answer.data.messages[0]!.id,
                fields: ['subject', 'body'],
                rationale: 'To read what Sam asked.',
              },
            },
          ],
        };
      },
      {
        toolCalls: [
          {
            name: 'gmail_drafts_create',
            arguments: {
              to: [SAM],
              subject: `Re: ${MARKERS.mailSubject}`,
              body: `Yes, and I will ${MARKERS.draftBody}.`,
              rationale: 'The person asked me to answer Sam.',
            },
          },
        ],
      },
      { text: `Drafted a yes to Sam (${MARKERS.summary}).` },
    );
    const started = await platform.call<{ task: { id: string } }>('POST', '/v1/tasks', {
      title: 'Answer Sam',
      actions: ['gmail.messages.search', 'gmail.messages.read', 'gmail.drafts.create'],
      connectionId: platform.connectionId,
      // The one address the person allows: in their limits, sealed like their words.
      limits: { recipients: [SAM] },
      request: `Draft a yes to ${SAM} about the walk (${MARKERS.request}).`,
    });
    expect(started.status).toBe(201);
    const taskId = started.body.task.id;
    let timeline: { agentStatus: string | null; events: TaskEvent[] } = {
      agentStatus: null,
      events: [],
    };
    for (let attempt = 0; attempt < 100 && timeline.agentStatus !== 'completed'; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      timeline = (await platform.call<typeof timeline>('GET', `/v1/tasks/${taskId}/events`)).body;
    }
    expect(timeline.agentStatus).toBe('completed');

    // The person reads their own words back: opened in the gateway, for them.
    expect(JSON.stringify(timeline.events)).toContain(MARKERS.rationale);
    const tasks = await platform.call<{
      tasks: { id: string; request: string; summary: string }[];
    }>('GET', '/v1/tasks');
    const task = tasks.body.tasks.find((listed) => listed.id === taskId)!;
    expect(task.request).toContain(MARKERS.request);
    expect(task.summary).toContain(MARKERS.summary);
    const viewer = { ...platform.person, role: 'owner' as const };
    let records: AuditRecord[] = [];
    for (let attempt = 0; attempt < 50; attempt += 1) {
      ({ records } = await platform.asGateway.request(queryAuditRecords, { viewer }));
      if (records.some((record) => record.envelope.event.name === 'task.agent_finished')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const activity = await platform.call<{ records: { rationale: string | null }[] }>(
      'GET',
      '/v1/activity?limit=200',
    );
    expect(activity.body.records.map((record) => record.rationale)).toContain(
      `To find Sam's ${MARKERS.rationale}.`,
    );
    // Audit holds the agent's words only sealed: the signed record names no one.
    const stored = JSON.stringify(records.map((record) => record.envelope));
    expect(found(stored, MARKERS)).toEqual([]);
    expect(records.some((record) => record.envelope.event.personal !== undefined)).toBe(true);

    // At rest, everywhere: none of it in clear while the account is open (the dump does read the
    // data: the account's own address is there, in its profile, until it is closed).
    const before = dump(platform);
    expect(before).toContain(ME);
    expect(found(before, MARKERS)).toEqual([]);

    const closed = await platform.call('POST', '/v1/me/close', { confirm: ME });
    expect(closed.status).toBe(204);
    let closure: AuditRecord | undefined;
    for (let attempt = 0; attempt < 50 && closure === undefined; attempt += 1) {
      ({ records } = await platform.asGateway.request(queryAuditRecords, { viewer }));
      closure = records.find((record) => record.envelope.event.name === 'tenant.closed');
      if (closure === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(closure).toBeDefined();
    // The record still verifies, signatures and chain, over the ciphertext whose key is gone.
    const report = await platform.asGateway.request(verifyAuditChain, { viewer });
    expect(report).toMatchObject({ ok: true });

    // After closure: not their words, nor their address, nor their name.
    const after = dump(platform);
    expect(found(after, { ...MARKERS, email: ME, name: 'Eval Person' })).toEqual([]);
  });
});
