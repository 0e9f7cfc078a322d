import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { type executeAction, type RpcRequest } from '@heroagent/contracts';
import { createDatabase, sql, type Kysely } from '@heroagent/db';
import { ActionExecutor } from '../src/actions/action-executor.js';
import type { RunningGateway } from '../src/gateway.js';
import { codeOf } from './support/people.js';
import { eventsAbout, ownerWithTask } from './support/replica-tasks.js';
import { startGatewayFixture, type GatewayFixture } from './support/fixture.js';

const DRAFTS_ALLOWED = `@id("drafts-without-approval")
permit (principal, action == HeroAgent::Action::"gmail.drafts.create", resource);`;
const CREATE_DRAFT = 'gmail.users.drafts.create';

type Request = RpcRequest<typeof executeAction>;

/**
 * What the chaos test does to the gateway: a replica dies while it runs an action (the provider
 * call under way). The action's outcome is unknown — the provider may have done it — so it is
 * never run again; it is settled as failed, outcome unknown, once, at once: by the next repeat
 * of the request on another replica, or by the next sweep. A replica that is alive keeps its
 * action, however the others look at it.
 */
describe('a gateway replica that dies while it runs an action', { timeout: 60_000 }, () => {
  let fixture: GatewayFixture;
  let admin: Kysely<unknown>;
  let a: RunningGateway;
  let b: RunningGateway;

  beforeAll(async () => {
    // A repeat waits briefly for a live first attempt; the provider never times out on its own
    // here: a held call hangs until the test lets it go.
    fixture = await startGatewayFixture(
      { ACTION_RETRY_WAIT_MS: '100', PROVIDER_TIMEOUT_MS: '60000' },
      { replicas: 2 },
    );
    [a, b] = fixture.replicas as [RunningGateway, RunningGateway];
    admin = createDatabase<unknown>({
      connectionString: fixture.database.adminUrl,
      schema: 'gateway',
      applicationName: 'gateway-dead-replicas-test-admin',
    });
  });
  afterAll(async () => {
    await admin?.destroy();
    await fixture?.close();
  });

  const executor = (replica: RunningGateway) => replica.app.get(ActionExecutor);

  /** A request for a draft, allowed at once, on a task of its own. */
  async function draftRequest(): Promise<Request> {
    const { capability } = await ownerWithTask(
      fixture,
      ['gmail.drafts.create'],
      'gmail.read,gmail.modify',
      DRAFTS_ALLOWED,
    );
    return {
      capability,
      action: 'gmail.drafts.create',
      params: { to: ['ada@corp.example'], subject: `Draft ${randomUUID()}`, body: 'Hi Ada' },
      idempotencyKey: `key-${randomUUID()}`,
      rationale: 'You asked me to draft a note to Ada.',
      untrustedParams: [],
    };
  }

  async function actionOf(request: Request) {
    const { rows } = await sql<{ id: string; status: string; executor: string | null }>`
      select id, status, executor from actions where idempotency_key = ${request.idempotencyKey}
    `.execute(admin);
    return rows;
  }

  /** The outcome codes and messages of what `replica` answers to `request`. */
  async function answerOf(replica: RunningGateway, request: Request) {
    try {
      return { code: 'OK', answer: await executor(replica).execute(request) };
    } catch (error) {
      return { code: (error as { code?: string }).code, message: (error as Error).message };
    }
  }

  it('holds its lease from before it serves, and records it on what it runs', async () => {
    for (const replica of fixture.replicas) {
      expect(replica.lease.held).toBe(true);
      const { rows } = await sql<{ held: boolean }>`
        select exists (
          select from pg_locks
          where locktype = 'advisory' and granted and mode = 'ExclusiveLock'
            and pid = ${replica.lease.pid}
            and ((classid::bigint << 32) | objid::bigint) =
              hashtextextended(${`gateway.replica:${replica.lease.id}`}, 0)
        ) as held`.execute(admin);
      expect(rows[0]!.held).toBe(true);
      // Taken before the replica served: its lease is logged before it is ready.
      const leased = fixture.logs.findIndex((line) => line.includes(replica.lease.id));
      const ready = fixture.logs.findIndex(
        (line) => line.includes('gateway ready') && line.includes(replica.url),
      );
      expect(leased).toBeGreaterThanOrEqual(0);
      expect(leased).toBeLessThan(ready);
    }
  });

  it('keeps a live replica’s running action: another replica’s repeat and sweep leave it running', async () => {
    const request = await draftRequest();
    const calls = fixture.gmail.callCount(CREATE_DRAFT);
    const held = fixture.gmail.holdNext(CREATE_DRAFT);
    const first = executor(a).execute(request);
    await held.reached;
    const [running] = await actionOf(request);
    expect(running).toMatchObject({ status: 'executing', executor: a.lease.id });

    expect(await answerOf(b, request)).toMatchObject({
      code: 'TIMEOUT',
      message: 'the first attempt of this request is still running',
    });
    expect(await executor(b).failStale()).toBe(0);
    expect(await executor(a).failStale()).toBe(0);
    expect((await actionOf(request))[0]!.status).toBe('executing');

    held.release();
    const done = await first;
    expect(done.status).toBe('completed');
    // The repeat now answers the first outcome, and the draft was written once.
    expect(await answerOf(b, request)).toMatchObject({
      code: 'OK',
      answer: { status: 'completed', actionId: done.actionId },
    });
    expect(fixture.gmail.callCount(CREATE_DRAFT) - calls).toBe(1);
    const names = (await eventsAbout(fixture, [done.actionId])).get(done.actionId);
    expect(names).toEqual(['action.requested', 'action.executed']);
  });

  it('settles actions of replicas that are gone once, however many sweeps run at once', async () => {
    // One after the other: the identity provider double signs one person in at a time.
    const requests: Request[] = [];
    for (let index = 0; index < 4; index += 1) requests.push(await draftRequest());
    const answers = await Promise.all(requests.map((request) => executor(b).execute(request)));
    const ids = answers.map((answer) => answer.actionId);
    const gone = [randomUUID(), randomUUID()];
    // Three as two replicas that are gone left them (nobody holds their leases)…
    await sql`update actions set status = 'executing', completed_at = null, executor = ${gone[0]!}
      where id = any(${ids.slice(0, 2)}::uuid[])`.execute(admin);
    await sql`update actions set status = 'executing', completed_at = null, executor = ${gone[1]!}
      where id = ${ids[2]!}`.execute(admin);
    // …and one as a live replica runs it.
    await sql`update actions set status = 'executing', completed_at = null, executor = ${a.lease.id}
      where id = ${ids[3]!}`.execute(admin);

    const settled = await Promise.all([a, b, a, b].map((replica) => executor(replica).failStale()));
    expect(settled.reduce((sum, count) => sum + count, 0)).toBe(3);
    const { rows } = await sql<{ id: string; status: string; error: { message: string } | null }>`
      select id, status, error from actions where id = any(${ids}::uuid[])`.execute(admin);
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const id of ids.slice(0, 3)) {
      expect(byId.get(id)).toMatchObject({
        status: 'failed',
        error: { message: expect.stringContaining('outcome unknown') as unknown },
      });
    }
    expect(byId.get(ids[3]!)!.status).toBe('executing');
    const events = await eventsAbout(fixture, ids);
    for (const id of ids.slice(0, 3)) {
      expect(events.get(id)!.filter((name) => name === 'action.outcome_unknown')).toHaveLength(1);
    }
    expect(events.get(ids[3]!)).not.toContain('action.outcome_unknown');
    // What the sweep recorded says why.
    const recorded = (await fixture.auditEvents())
      .map(({ event }) => event)
      .find((event) => event.name === 'action.outcome_unknown' && event.data.actionId === ids[0]);
    expect(recorded?.data.reason).toBe(
      'the gateway replica running it stopped while it was running',
    );
    await sql`update actions set status = 'completed', completed_at = now()
      where id = ${ids[3]!}`.execute(admin);
  });

  // Last: replica A is dead from here on.
  it('settles the action of a replica that died mid-call at the next repeat, once, and never runs it again', async () => {
    const request = await draftRequest();
    const calls = fixture.gmail.callCount(CREATE_DRAFT);
    const held = fixture.gmail.holdNext(CREATE_DRAFT);
    const first = executor(a)
      .execute(request)
      .catch((error: unknown) => error);
    await held.reached;
    expect((await actionOf(request))[0]).toMatchObject({
      status: 'executing',
      executor: a.lease.id,
    });

    // A dies, as far as anyone else can tell: its lease's session ends.
    const pid = a.lease.pid;
    await sql`select pg_terminate_backend(${pid})`.execute(admin);
    for (;;) {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity where pid = ${pid}`.execute(admin);
      if (rows[0]!.n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    // The agent asks again, through B: the answer is the settled outcome, not TIMEOUT.
    const repeat = await answerOf(b, request);
    expect(repeat).toMatchObject({ code: 'UPSTREAM_FAILED' });
    expect(repeat.message).toContain('outcome unknown: the replica executing it stopped');
    const [settled] = await actionOf(request);
    expect(settled!.status).toBe('failed');
    // Asked again, and swept by both: the same answer, nothing more recorded.
    expect(await answerOf(b, request)).toMatchObject({ code: 'UPSTREAM_FAILED' });
    expect(await executor(b).failStale()).toBe(0);

    // A, its lease lost, runs nothing more: a new request is refused, nothing written.
    expect(a.lease.held).toBe(false);
    const another = await draftRequest();
    expect(await codeOf(executor(a).execute(another))).toBe('UNAVAILABLE');
    expect(await actionOf(another)).toEqual([]);

    // The call A had under way comes back: the record stays as settled.
    held.release();
    await first;
    expect(fixture.gmail.callCount(CREATE_DRAFT) - calls).toBe(1);
    expect((await actionOf(request))[0]!.status).toBe('failed');
    const names = (await eventsAbout(fixture, [settled!.id])).get(settled!.id);
    expect(names).toEqual(['action.requested', 'action.outcome_unknown']);
  });
});
