import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personalFieldsContext, type ActivityRecord, type AuditEvent } from '@heroagent/contracts';
import { OtlpReceiverDouble, type TestBrowser } from '@heroagent/doubles';
import { PersonalKeys } from '../src/privacy/personal-keys.js';
import type { SessionView } from './support/fixture.js';
import { person } from './support/people.js';
import { startRecordsHarness, type RecordsHarness } from './support/records-harness.js';

const VERIFIER = fileURLToPath(
  new URL('../../../tools/audit-verify/dist/main.js', import.meta.url),
);

interface Signed {
  browser: TestBrowser;
  session: SessionView;
}
interface Page {
  records: ActivityRecord[];
  nextCursor: string | null;
}

/** `pnpm audit:verify <file> --trust <key>`, as an auditor runs it on a download. */
function verifyOffline(file: string, trust: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [VERIFIER, file, '--trust', trust]);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

describe('the audit record over HTTP (activity, integrity, exports, SIEM) with the real audit', () => {
  let harness: RecordsHarness;
  let owner: Signed;
  let auditor: Signed;
  let member: Signed;
  let dir: string;
  const task = randomUUID();
  const otherTask = randomUUID();
  const synthetic: AuditEvent[] = [];

  const call = (who: Signed, method: string, path: string, body?: unknown) =>
    harness.fixture.call(who.browser, method, path, body);
  const json = async <T>(response: Response, status: number): Promise<T> => {
    const body = (await response.json()) as T;
    expect({ status: response.status, body }).toMatchObject({ status });
    return body;
  };
  const activity = async (who: Signed, query: string) =>
    json<Page>(await call(who, 'GET', `/v1/activity?${query}`), 200);

  async function invite(role: 'auditor' | 'member'): Promise<Signed> {
    const who = person(role);
    const { token } = await json<{ token: string }>(
      await call(owner, 'POST', '/v1/tenant/invitations', { email: who.email, role }),
      201,
    );
    return harness.fixture.signIn(who, { invitation: token });
  }

  /** Actions of two people in one task, with every filter's values represented. */
  function actionEvents(tenantId: string): AuditEvent[] {
    const actions = ['gmail.messages.send', 'calendar.events.create', 'gmail.drafts.create'];
    const outcomes = ['success', 'failure', 'denied', 'pending'] as const;
    const rationales = [
      'Replying to Bob about the quarterly invoice.',
      'Budget at 100% of the limit, so refused.',
      '=HYPERLINK("https://evil.example","click")',
      'Moving the team sync to Thursday.',
    ];
    return Array.from({ length: 24 }, (_, index): AuditEvent => {
      const outcome = outcomes[index % 4]!;
      return {
        id: randomUUID(),
        tenantId,
        occurredAt: new Date(Date.UTC(2021, 0, 1 + index)).toISOString(),
        name: outcome === 'denied' ? 'action.refused' : 'action.executed',
        source: 'gateway',
        actor: { type: 'agent', id: task },
        userId: index % 3 === 0 ? member.session.user.id : owner.session.user.id,
        taskId: index < 18 ? task : otherTask,
        action: actions[index % 3]!,
        outcome,
        rationale: rationales[index % 4]!,
        policy: {
          effect: outcome === 'denied' ? 'deny' : 'allow',
          policyId: 'tenant.limits',
          reason: outcome === 'denied' ? 'over the spending limit' : 'allowed',
        },
        data: {
          actionId: randomUUID(),
          ...(index === 5
            ? { approvalId: 'approval-5', approvedBy: ['someone'], approvals: 1 }
            : {}),
        },
      };
    });
  }

  async function sealPersonal(event: AuditEvent): Promise<AuditEvent> {
    const keys = harness.fixture.gateway.app.get(PersonalKeys);
    const sealer = await keys.forPerson(event.tenantId, event.userId!);
    const { rationale, policy, ...rest } = event;
    return {
      ...rest,
      policy: { effect: policy!.effect, policyId: policy!.policyId },
      personal: {
        key: { scope: 'user', id: event.userId!, version: sealer.version },
        ciphertext: sealer.seal(
          personalFieldsContext(event.id),
          JSON.stringify({ rationale, policyReason: policy!.reason }),
        ),
      },
    };
  }

  beforeAll(async () => {
    harness = await startRecordsHarness();
    dir = await mkdtemp(join(tmpdir(), 'records-test-'));
    owner = await harness.fixture.signIn(person('owner'));
    auditor = await invite('auditor');
    member = await invite('member');
    synthetic.push(...actionEvents(owner.session.tenant!.id));
    // As the gateway records them: the rationale and the policy's reason sealed with the
    // person's key, so the search below reads them only through the gateway.
    await harness.publish(await Promise.all(synthetic.map(sealPersonal)));
    await harness.waitForStored(
      owner.session.tenant!.id,
      synthetic.map((event) => event.id),
    );
  });
  afterAll(async () => {
    await harness?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  describe('GET /v1/activity', () => {
    it('pages newest first with a cursor until the last page', async () => {
      const seen: ActivityRecord[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `taskId=${task}&limit=7${cursor === null ? '' : `&cursor=${cursor}`}`;
        const page = await activity(auditor, query);
        seen.push(...page.records);
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== null);
      expect(pages).toBe(3);
      expect(seen).toHaveLength(18);
      const seqs = seen.map((record) => record.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
      expect(new Set(seqs).size).toBe(18);
    });

    it('filters by person, action, outcome, event name, task and time range', async () => {
      const expectAll = async (query: string, matches: (event: AuditEvent) => boolean) => {
        const page = await activity(auditor, `${query}&limit=200`);
        const ids = page.records.map((record) => record.eventId);
        const expected = synthetic.filter(matches).map((event) => event.id);
        expect(expected.length).toBeGreaterThan(0);
        expect(ids).toEqual(expect.arrayContaining(expected));
        return page.records;
      };
      const memberId = member.session.user.id;
      for (const record of await expectAll(`userId=${memberId}`, (e) => e.userId === memberId))
        expect(record.userId).toBe(memberId);
      for (const record of await expectAll(
        'action=gmail.drafts.create',
        (e) => e.action === 'gmail.drafts.create',
      ))
        expect(record.action).toBe('gmail.drafts.create');
      for (const record of await expectAll('outcome=pending', (e) => e.outcome === 'pending'))
        expect(record.outcome).toBe('pending');
      for (const record of await expectAll('name=action.refused', (e) => e.outcome === 'denied'))
        expect(record.name).toBe('action.refused');
      expect(await expectAll(`taskId=${otherTask}`, (e) => e.taskId === otherTask)).toHaveLength(6);
      const january = await expectAll(
        'from=2021-01-03T00:00:00Z&to=2021-01-06T00:00:00Z',
        (e) => e.occurredAt >= '2021-01-03' && e.occurredAt < '2021-01-06',
      );
      expect(january).toHaveLength(3);
    });

    it('searches names, action types, rationales and policy reasons with q, literally', async () => {
      const ids = async (q: string) =>
        (await activity(auditor, `q=${encodeURIComponent(q)}&limit=200`)).records.map(
          (record) => record.eventId,
        );
      const withRationale = (text: string) =>
        synthetic.filter((event) => event.rationale === text).map((event) => event.id);
      expect(await ids('QUARTERLY invoice')).toEqual(
        expect.arrayContaining(withRationale('Replying to Bob about the quarterly invoice.')),
      );
      expect(await ids('QUARTERLY invoice')).toHaveLength(6);
      // % and _ are the text itself, not wildcards.
      expect(await ids('100%')).toHaveLength(6);
      expect(await ids('1_0%')).toEqual([]);
      expect(await ids('drafts.create')).toHaveLength(8);
      expect(await ids('spending limit')).toHaveLength(6);
      expect(await ids('action.refused')).toHaveLength(6);
      // Combined with a filter, and paged.
      const mine = await activity(auditor, `q=invoice&userId=${member.session.user.id}`);
      expect(mine.records.length).toBeGreaterThan(0);
      expect(mine.records.every((record) => record.userId === member.session.user.id)).toBe(true);
      const first = await activity(auditor, 'q=quarterly&limit=4');
      const second = await activity(auditor, `q=quarterly&limit=4&cursor=${first.nextCursor}`);
      expect(first.records).toHaveLength(4);
      expect(second.records).toHaveLength(2);
      expect(second.nextCursor).toBeNull();
    });

    it('shows each record as the console needs it', async () => {
      const source = synthetic[5]!;
      const page = await activity(auditor, `taskId=${task}&limit=200`);
      const record = page.records.find((candidate) => candidate.eventId === source.id)!;
      expect(record).toMatchObject({
        name: source.name,
        occurredAt: source.occurredAt,
        source: 'gateway',
        actor: source.actor,
        userId: source.userId,
        taskId: task,
        actionId: source.data.actionId,
        action: source.action,
        outcome: source.outcome,
        rationale: source.rationale,
        policy: source.policy,
        approval: { id: 'approval-5', approvedBy: ['someone'], approvals: 1, required: null },
        relatedEventId: null,
        personal: { scope: 'user', keyId: source.userId, keyVersion: 1, erased: false },
        data: source.data,
        signatureKid: harness.fixture.gatewaySigning.kid,
      });
      expect(record.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(record.prevHash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('shows a member only their own events, an auditor everyone’s', async () => {
      const mine = await activity(member, 'limit=200');
      expect(mine.records.length).toBeGreaterThan(0);
      expect(mine.records.every((record) => record.userId === member.session.user.id)).toBe(true);
      const refused = await call(member, 'GET', `/v1/activity?userId=${owner.session.user.id}`);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ code: 'FORBIDDEN' });
      const all = await activity(auditor, `taskId=${task}&limit=200`);
      expect(new Set(all.records.map((record) => record.userId))).toEqual(
        new Set([owner.session.user.id, member.session.user.id]),
      );
    });

    it('never shows another tenant’s events, whatever the filter or search', async () => {
      const stranger = await harness.fixture.signIn(person('stranger'));
      for (const query of [`taskId=${task}`, 'q=quarterly', `userId=${owner.session.user.id}`]) {
        const text = await (await call(stranger, 'GET', `/v1/activity?${query}`)).text();
        for (const event of synthetic) expect(text).not.toContain(event.id);
      }
    });

    it.each([
      ['limit=0', 'query.limit'],
      ['limit=201', 'query.limit'],
      ['limit=ten', 'query.limit'],
      ['from=yesterday', 'query.from'],
      ['from=2022-01-01T00:00:00Z&to=2021-01-01T00:00:00Z', 'query.to'],
      ['userId=someone', 'query.userId'],
      ['outcome=fine', 'query.outcome'],
      ['action=Not%20An%20Action', 'query.action'],
      ['q=ab', 'query.q'],
      ['cursor=%21%21', 'query.cursor'],
      ['cursor=bm90LWEtY3Vyc29y', 'query.cursor'],
      ['q=quarterly&cursor=bm90LWEtY3Vyc29y', 'query.cursor'],
      ['q=quarterly&cursor=s1bm90LWEtY3Vyc29y', 'query.cursor'],
      ['colour=red', 'query'],
    ])('refuses %s as INVALID_REQUEST naming %s', async (query, path) => {
      const response = await call(auditor, 'GET', `/v1/activity?${query}`);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { code: string; issues: { path: string }[] };
      expect(body.code).toBe('INVALID_REQUEST');
      expect(body.issues.map((issue) => issue.path)).toContain(path);
    });
  });

  describe('integrity', () => {
    it('shows the chain and its latest checkpoint, verifies on demand and remembers it', async () => {
      type Status = {
        events: number;
        head: { seq: number; hash: string } | null;
        latestCheckpoint: { index: number | null; treeSize: number; kid: string } | null;
        lastVerification: { ok: boolean; by: string; events: number } | null;
      };
      const status = async (who: Signed) =>
        json<Status>(await call(who, 'GET', '/v1/integrity'), 200);
      let before = await status(auditor);
      // Audit signs a checkpoint every second over events not yet covered.
      for (let tries = 0; before.latestCheckpoint === null && tries < 50; tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        before = await status(auditor);
      }
      expect(before.events).toBeGreaterThanOrEqual(synthetic.length);
      expect(before.head).toMatchObject({
        seq: before.events,
        hash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
      });
      expect(before.latestCheckpoint).toMatchObject({
        kid: harness.auditKey,
        index: expect.any(Number) as unknown,
      });
      expect(before.lastVerification).toBeNull();

      const report = await json<{ ok: boolean; events: number; firstProblem: unknown }>(
        await call(auditor, 'POST', '/v1/integrity/verify'),
        200,
      );
      expect(report).toMatchObject({ ok: true, firstProblem: null });
      expect(report.events).toBeGreaterThanOrEqual(before.events);

      let after = before;
      for (let tries = 0; after.lastVerification === null && tries < 100; tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        after = await status(owner);
      }
      expect(after.lastVerification).toMatchObject({ ok: true, by: auditor.session.user.id });
      for (const [method, path] of [
        ['GET', '/v1/integrity'],
        ['POST', '/v1/integrity/verify'],
      ] as const) {
        const refused = await call(member, method, path);
        expect(refused.status).toBe(403);
      }
    });
    it('proves consistency from a kept size to the latest checkpoint, for those who see the whole record', async () => {
      type Answer = {
        first: { checkpoint: { treeSize: number } } | null;
        second: { checkpoint: { treeSize: number; rootHash: string } };
        proof: string[];
        sequence: unknown[];
        sequenceComplete: boolean;
      };
      let latest: Answer | undefined;
      for (let tries = 0; latest === undefined && tries < 50; tries += 1) {
        const response = await call(auditor, 'GET', '/v1/integrity/consistency?from=1');
        if (response.status === 200) latest = (await response.json()) as Answer;
        else await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const size = latest!.second.checkpoint.treeSize;
      expect(size).toBeGreaterThanOrEqual(synthetic.length);
      expect(latest!.proof.length).toBeGreaterThan(0);
      expect(latest!.sequenceComplete).toBe(true);
      const exact = await json<Answer>(
        await call(owner, 'GET', `/v1/integrity/consistency?from=${size}&to=${size}`),
        200,
      );
      expect(exact.proof).toEqual([]);
      expect(exact.first?.checkpoint.treeSize).toBe(size);

      for (const [query, path] of [
        ['from=0', 'query.from'],
        ['from=-1', 'query.from'],
        ['from=1.5', 'query.from'],
        ['from=1e3', 'query.from'],
        ['from=abc', 'query.from'],
        ['', 'query.from'],
        ['from=2&to=1', 'query.to'],
        ['from=1&extra=1', 'query'],
        // Far past the latest checkpoint (new ones may be signed while this runs).
        [`from=${size + 1_000_000_000}`, 'query.from'],
        ['from=1&sequenceFrom=0', 'query.sequenceFrom'],
        ['from=1&sequenceFrom=9999999', 'query.sequenceFrom'],
      ] as const) {
        const refused = await call(auditor, 'GET', `/v1/integrity/consistency?${query}`);
        expect({ query, status: refused.status }).toEqual({ query, status: 400 });
        const answer = (await refused.json()) as { code: string; issues: { path: string }[] };
        expect(answer.code).toBe('INVALID_REQUEST');
        expect(answer.issues.map((issue) => issue.path)).toContain(path);
      }
      const missing = await call(auditor, 'GET', `/v1/integrity/consistency?from=1&to=${size + 7}`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { code: string }).code).toBe('NOT_FOUND');
      expect((await call(member, 'GET', '/v1/integrity/consistency?from=1')).status).toBe(403);
    });
  });

  describe('exports', () => {
    it('downloads a bundle the offline verifier accepts, and refuses a tampered copy', async () => {
      const tenantId = owner.session.tenant!.id;
      const response = await call(auditor, 'GET', '/v1/exports/audit-bundle');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      expect(response.headers.get('content-disposition')).toBe(
        `attachment; filename="heroagent-audit-${tenantId}.jsonl"`,
      );
      const text = await response.text();
      const good = join(dir, 'bundle.jsonl');
      await writeFile(good, text);
      const verified = await verifyOffline(good, harness.auditKey);
      expect(verified.out).toMatch(/^VERIFIED: \d+ events and \d+ checkpoints/);
      expect(verified.code).toBe(0);
      for (const event of synthetic) expect(text).toContain(event.id);

      const victim = synthetic[1]!.id;
      const tampered = join(dir, 'tampered.jsonl');
      await writeFile(
        tampered,
        text
          .split('\n')
          .map((line) =>
            line.includes(victim)
              ? line.replace('"outcome":"failure"', '"outcome":"success"')
              : line,
          )
          .join('\n'),
      );
      expect(await verifyOffline(tampered, harness.auditKey)).toMatchObject({
        code: 1,
        out: expect.stringContaining('NOT VERIFIED') as unknown,
      });
    });

    it('downloads CSV, protected against formula injection', async () => {
      const response = await call(owner, 'GET', '/v1/exports/audit.csv');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(response.headers.get('content-disposition')).toBe(
        `attachment; filename="heroagent-audit-${owner.session.tenant!.id}.csv"`,
      );
      const rows = (await response.text()).split('\r\n');
      expect(rows[0]).toMatch(/^seq,event_id,occurred_at/);
      for (const event of synthetic) expect(rows.some((row) => row.includes(event.id))).toBe(true);
      expect(rows.join('\n')).toContain(`"'=HYPERLINK(""https://evil.example"",""click"")"`);
      // The rationales opened for the auditor here; the verifiable bundle keeps them sealed.
      expect(rows.join('\n')).toContain('Replying to Bob about the quarterly invoice.');
      const bundle = await (await call(owner, 'GET', '/v1/exports/audit-bundle')).text();
      expect(bundle).not.toContain('quarterly invoice');
      expect(bundle).toContain('"personal":');
    });

    it('refuses members', async () => {
      for (const path of ['/v1/exports/audit-bundle', '/v1/exports/audit.csv']) {
        const refused = await call(member, 'GET', path);
        expect(refused.status).toBe(403);
        expect(await refused.json()).toMatchObject({ code: 'FORBIDDEN' });
      }
    });
  });

  describe('SIEM destinations', () => {
    let receiver: OtlpReceiverDouble;
    const secret = `sk-${randomUUID()}`;
    beforeAll(async () => {
      receiver = await OtlpReceiverDouble.start();
    });
    afterAll(() => receiver?.close());

    it('creates (never echoing a secret header), lists, tests, and removes a destination', async () => {
      type Destination = { id: string; headerNames: string[]; endpoint: string };
      const response = await call(owner, 'POST', '/v1/tenant/siem-destinations', {
        name: 'Company SIEM',
        endpoint: receiver.url,
        encoding: 'json',
        headers: { 'x-api-key': secret },
      });
      const text = await response.text();
      expect(response.status).toBe(201);
      expect(text).not.toContain(secret);
      const created = JSON.parse(text) as Destination;
      expect(created).toMatchObject({ endpoint: receiver.url, headerNames: ['x-api-key'] });

      const listed = await call(auditor, 'GET', '/v1/tenant/siem-destinations');
      const listText = await listed.text();
      expect(listText).not.toContain(secret);
      expect((JSON.parse(listText) as { destinations: Destination[] }).destinations).toEqual([
        expect.objectContaining({ id: created.id, headerNames: ['x-api-key'] }),
      ]);

      const tested = await json<{ delivered: boolean }>(
        await call(owner, 'POST', `/v1/tenant/siem-destinations/${created.id}/test`),
        200,
      );
      expect(tested.delivered).toBe(true);
      const test = receiver.exports.find((sent) =>
        sent.records.some((record) => record.eventName === 'heroagent.siem.test'),
      );
      expect(test?.headers['x-api-key']).toBe(secret);

      await receiver.down();
      const failed = await call(owner, 'POST', `/v1/tenant/siem-destinations/${created.id}/test`);
      expect(failed.status).toBe(502);
      expect(await failed.json()).toMatchObject({ code: 'UPSTREAM_FAILED' });
      await receiver.up();

      const stranger = await harness.fixture.signIn(person('stranger'));
      const foreign = await call(stranger, 'DELETE', `/v1/tenant/siem-destinations/${created.id}`);
      expect(foreign.status).toBe(404);
      const poked = await call(stranger, 'POST', `/v1/tenant/siem-destinations/${created.id}/test`);
      expect(poked.status).toBe(404);
      expect(await (await call(stranger, 'GET', '/v1/tenant/siem-destinations')).json()).toEqual({
        destinations: [],
      });

      expect(
        (await call(owner, 'DELETE', `/v1/tenant/siem-destinations/${created.id}`)).status,
      ).toBe(204);
      const gone = await call(owner, 'DELETE', `/v1/tenant/siem-destinations/${created.id}`);
      expect(gone.status).toBe(404);
      expect(await gone.json()).toMatchObject({ code: 'NOT_FOUND' });
      expect(
        (
          await json<{ destinations: object[] }>(
            await call(owner, 'GET', '/v1/tenant/siem-destinations'),
            200,
          )
        ).destinations,
      ).toEqual([]);
      for (const line of [...harness.fixture.logs, ...harness.auditLogs])
        expect(line).not.toContain(secret);
    });

    it('refuses an auditor every change', async () => {
      const id = randomUUID();
      for (const [method, path, body] of [
        ['POST', '/v1/tenant/siem-destinations', { name: 'x', endpoint: receiver.url }],
        ['DELETE', `/v1/tenant/siem-destinations/${id}`, undefined],
        ['POST', `/v1/tenant/siem-destinations/${id}/test`, undefined],
      ] as const) {
        const refused = await call(auditor, method, path, body);
        expect(refused.status).toBe(403);
        expect(await refused.json()).toMatchObject({ code: 'FORBIDDEN' });
      }
      expect(
        (
          await json<{ destinations: object[] }>(
            await call(auditor, 'GET', '/v1/tenant/siem-destinations'),
            200,
          )
        ).destinations,
      ).toEqual([]);
    });

    it('refuses a bad destination as INVALID_REQUEST', async () => {
      for (const [body, path] of [
        [{ name: 'x', endpoint: 'ftp://collector.example/v1/logs' }, 'body.endpoint'],
        [{ name: '', endpoint: receiver.url }, 'body.name'],
        [{ name: 'x', endpoint: receiver.url, headers: { 'bad header': 'v' } }, 'body.headers'],
        [{ name: 'x', endpoint: receiver.url, extra: true }, 'body'],
        // Audit's own check, named as the field the person sent.
        [{ name: 'x', endpoint: 'http://user:pass@127.0.0.1:9/v1/logs' }, 'body.endpoint'],
        // A checkpoint webhook must be HTTPS (audit's check), and a kind is one of two.
        [{ name: 'x', kind: 'webhook', endpoint: 'http://witness.example/hook' }, 'body.endpoint'],
        [{ name: 'x', kind: 'mail', endpoint: receiver.url }, 'body.kind'],
      ] as const) {
        const refused = await call(owner, 'POST', '/v1/tenant/siem-destinations', body);
        expect(refused.status).toBe(400);
        const answer = (await refused.json()) as { code: string; issues: { path: string }[] };
        expect(answer.code).toBe('INVALID_REQUEST');
        expect(answer.issues.map((issue) => issue.path.split('.').slice(0, 2).join('.'))).toContain(
          path,
        );
      }
      // Nothing was written.
      expect(await (await call(owner, 'GET', '/v1/tenant/siem-destinations')).json()).toEqual({
        destinations: [],
      });
    });
  });
});
