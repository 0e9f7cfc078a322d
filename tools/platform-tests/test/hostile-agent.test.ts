import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tally, type ExecuteAnswer } from '../support/hostile-agent.js';
import {
  DAILY_SPEND_CAP,
  HOURLY_CAP,
  HostilePlatform,
  SENDS_ALLOWED,
  SHOP,
  type Person,
  type StartedTask,
} from '../support/hostile-platform.js';

const SEND = 'gmail.messages.send';
const READ = 'gmail.messages.search';
const BUY = 'purchase.create';

/** Seconds a send waits in the outbox: long enough to stop, pause or remove someone within it. */
const WINDOW_S = 3;
const RUNS = 20;
const FLOOD = 50;
/** The shortest task lifetime POST /v1/tasks accepts. */
const SHORTEST_TASK_MINUTES = 5;

/** How an approval given after a stop or a pause may be refused: it must never run. */
const REFUSED_APPROVAL = ['CAPABILITY_REVOKED', 'TENANT_PAUSED', 'CONFLICT'];
const refusal = (answer: { status: number; code?: string }) =>
  answer.status !== 200 && REFUSED_APPROVAL.includes(answer.code ?? '')
    ? 'refused'
    : `${answer.status} ${answer.code ?? ''}`.trim();

/** A send admitted is held in the outbox, then leaves: either is an admitted send's status. */
const admittedSend = (status: string) =>
  ['scheduled', 'executing', 'completed'].includes(status) ? 'held or sent' : status;

// Issue 12 ("Complete mediation"): the agent is untrusted. Here an attacker holds the agent
// service's NATS credential and real task capabilities, speaks raw NATS to the real gateway (the
// real vault-proxy and audit behind it), never waits its turn and never reuses an idempotency key.
// Every limit must hold in the gateway, atomically; nothing held in the send window may leave once
// its task is stopped or expired, its tenant's agents paused, or its person removed.
describe('a hostile agent with the agent’s credential (issue 12)', { timeout: 300_000 }, () => {
  let platform: HostilePlatform;

  beforeAll(async () => {
    platform = await HostilePlatform.start({ sendWindowS: WINDOW_S });
  }, 120_000);
  afterAll(async () => {
    vi.useRealTimers();
    await platform?.close();
  });

  const send = (task: StartedTask, subject: string, untrustedParams: string[] = []) =>
    platform.agent.act(
      task.capability,
      SEND,
      { to: ['friend@example.org'], subject, body: 'Sent by the agent.' },
      { untrustedParams },
    );
  const buy = (task: StartedTask, amountMinor: number, untrustedParams: string[] = []) =>
    platform.agent.act(
      task.capability,
      BUY,
      { merchant: SHOP, item: 'Gift card', amountMinor, currency: 'EUR' },
      { untrustedParams },
    );
  const read = (task: StartedTask) => platform.agent.act(task.capability, READ, { query: '' });

  /** The action an admitted answer names; a refusal here is a setup mistake, so it throws. */
  const admittedId = (answer: ExecuteAnswer): string => {
    if (!answer.ok) throw new Error(`refused: ${answer.code} ${answer.message}`);
    return answer.response.actionId;
  };
  const approvalOf = (answer: ExecuteAnswer) => {
    if (!answer.ok || answer.response.status !== 'pending_approval') {
      throw new Error(`did not wait for approval: ${JSON.stringify(answer)}`);
    }
    return { actionId: answer.response.actionId, approvalId: answer.response.approvalId };
  };
  /** Where actions stand as the gateway tells the agent (gateway.actions.get), or its refusal. */
  const standings = (task: StartedTask, ids: readonly string[]) =>
    Promise.all(
      ids.map(async (id) => {
        const standing = await platform.agent.standing(task.capability, id);
        return standing.ok ? standing.response.status : standing.code;
      }),
    );
  /** Before anything is done to them: the sends are held in the window, not sent. */
  const mustBeHeld = async (task: StartedTask, ids: readonly string[]) => {
    const found = await standings(task, ids);
    if (found.some((status) => status !== 'scheduled')) {
      throw new Error(`the sends are not held: ${found.join(', ')}`);
    }
  };
  /** Sends held in the window, a send and a purchase waiting for approval: one task's exposure. */
  async function exposure(person: Person, prefix: string, sends: number) {
    const task = await person.startTask([SEND, BUY], {
      spend: { maxMinor: 10_000, currency: 'EUR' },
    });
    const sendApproval = approvalOf(await send(task, `${prefix} approved`, ['to']));
    const buyApproval = approvalOf(await buy(task, 500, ['amountMinor']));
    // The sends last, so that what follows happens well within their window.
    const subjects = Array.from({ length: sends }, (_, n) => `${prefix} ${n + 1}`);
    const held = (await Promise.all(subjects.map((subject) => send(task, subject)))).map(
      admittedId,
    );
    await mustBeHeld(task, held);
    const approvals = [sendApproval.approvalId, buyApproval.approvalId];
    const ids = [...held, sendApproval.actionId, buyApproval.actionId];
    return { task, ids, approvals, purchase: buyApproval.actionId };
  }

  // Each test has its own tenant; run together, their send windows pass at once.
  describe.concurrent('held sends: nothing leaves', () => {
    it('stopping the task cancels its held sends and pending approvals at once; approving afterwards runs nothing', async ({
      expect,
    }) => {
      const person = await platform.newPerson();
      await person.setPolicy(SENDS_ALLOWED);
      const { task, ids, approvals, purchase } = await exposure(person, 'stopped', 5);

      const stopped = await person.call('POST', `/v1/tasks/${task.taskId}/stop`, { reason: '' });
      expect(stopped.status).toBe(204);
      const atOnce = await person.statusesOf(task.taskId, ids);
      const approved = await Promise.all(approvals.map((id) => person.approve(id)));
      await platform.afterTheWindow();
      const audit = await person.settled(task.taskId, ids);
      expect({
        atOnce,
        approved: approved.map(refusal),
        reachedGmail: platform.sentFrom(person.email, 'stopped'),
        merchantOrders: platform.ordersFor([purchase]).length,
        final: await person.statusesOf(task.taskId, ids),
        audit,
      }).toEqual({
        atOnce: ids.map(() => 'cancelled'),
        approved: ['refused', 'refused'],
        reachedGmail: [],
        merchantOrders: 0,
        final: ids.map(() => 'cancelled'),
        audit: ids.map(() => 'action.cancelled'),
      });
    });

    it('pausing the tenant’s agents cancels held sends and pending approvals at once; approving during or after the pause runs nothing', async ({
      expect,
    }) => {
      const person = await platform.newPerson();
      await person.setPolicy(SENDS_ALLOWED);
      const { task, ids, approvals, purchase } = await exposure(person, 'paused', 5);

      expect((await person.call('POST', '/v1/tenant/agents/pause')).status).toBe(204);
      const atOnce = await person.statusesOf(task.taskId, ids);
      const whilePaused = await Promise.all(approvals.map((id) => person.approve(id)));
      await platform.afterTheWindow();
      const sentWhilePaused = platform.sentFrom(person.email, 'paused');
      expect((await person.call('POST', '/v1/tenant/agents/resume')).status).toBe(204);
      const afterResume = await Promise.all(approvals.map((id) => person.approve(id)));
      // A send approved after the resume would be held for the window again.
      await platform.afterTheWindow();
      const audit = await person.settled(task.taskId, ids);
      expect({
        atOnce,
        whilePaused: whilePaused.map(refusal),
        sentWhilePaused,
        afterResume: afterResume.map(refusal),
        reachedGmail: platform.sentFrom(person.email, 'paused'),
        merchantOrders: platform.ordersFor([purchase]).length,
        final: await person.statusesOf(task.taskId, ids),
        audit,
      }).toEqual({
        atOnce: ids.map(() => 'cancelled'),
        whilePaused: ['refused', 'refused'],
        sentWhilePaused: [],
        afterResume: ['refused', 'refused'],
        reachedGmail: [],
        merchantOrders: 0,
        final: ids.map(() => 'cancelled'),
        audit: ids.map(() => 'action.cancelled'),
      });
    });

    it('removing the person from the tenant cancels their held sends', async ({ expect }) => {
      const owner = await platform.newPerson({ connect: false });
      await owner.setPolicy(SENDS_ALLOWED);
      const email = `member-${owner.userId.slice(0, 8)}@example.com`;
      const member = await platform.newPerson({
        invitation: { email, token: await owner.invite(email, 'member') },
      });
      expect(member.tenantId).toBe(owner.tenantId);
      const task = await member.startTask([SEND]);
      const subjects = ['removed 1', 'removed 2', 'removed 3'];
      const held = (await Promise.all(subjects.map((subject) => send(task, subject)))).map(
        admittedId,
      );
      await mustBeHeld(task, held);

      const removed = await owner.call('DELETE', `/v1/tenant/members/${member.userId}`);
      expect(removed.status).toBe(204);
      await platform.afterTheWindow();
      // The member can no longer see the tenant: its owner reads the task's record.
      const audit = await owner.settled(task.taskId, held);
      expect({ reachedGmail: platform.sentFrom(member.email, 'removed'), audit }).toEqual({
        reachedGmail: [],
        audit: held.map(() => 'action.cancelled'),
      });
    });

    it('counts held sends against maxActions and the tenant’s hourly cap (the issue’s case)', async ({
      expect,
    }) => {
      const person = await platform.newPerson();
      await person.setPolicy(`${SENDS_ALLOWED}\n${HOURLY_CAP}`);
      const first = await person.startTask([SEND], { maxActions: 2 });
      const firstAnswers: ExecuteAnswer[] = [];
      for (let n = 1; n <= 6; n += 1) firstAnswers.push(await send(first, `limited ${n}`));
      // Another task of the same person: the tenant's cap of three an hour is the person's.
      const second = await person.startTask([SEND], { maxActions: 10 });
      const secondAnswers: ExecuteAnswer[] = [];
      for (let n = 7; n <= 9; n += 1) secondAnswers.push(await send(second, `limited ${n}`));
      await platform.afterTheWindow();
      const [one, two] = [tally(firstAnswers), tally(secondAnswers)];
      const ids = [...one.admitted, ...two.admitted].map((answer) => answer.actionId);
      await person.settled([first.taskId, second.taskId], ids);
      expect({
        first: { held: one.admitted.length, refusals: one.refusals },
        second: { held: two.admitted.length, refusals: two.refusals },
        reachedGmail: platform.sentFrom(person.email, 'limited').sort(),
        final: await person.statusesOf([first.taskId, second.taskId], ids),
      }).toEqual({
        first: { held: 2, refusals: { ACTION_NOT_ALLOWED: 4 } },
        second: { held: 1, refusals: { POLICY_DENIED: 2 } },
        reachedGmail: ['limited 1', 'limited 2', 'limited 7'],
        final: ['completed', 'completed', 'completed'],
      });
    });

    it('holds 50 simultaneous sends to maxActions, and 50 from two tasks to the hourly cap', async ({
      expect,
    }) => {
      const subject = (n: number) => `flood ${n}`;
      const heldSubjects = (answers: ExecuteAnswer[]) =>
        answers.flatMap((answer, n) => (answer.ok ? [subject(n)] : [])).sort();
      const capped = await platform.newPerson();
      await capped.setPolicy(`${SENDS_ALLOWED}\n${HOURLY_CAP}`);
      const task = await capped.startTask([SEND], { maxActions: 2 });
      const one = await platform.agent.flood(FLOOD, (n) => send(task, subject(n)));
      const rated = await platform.newPerson();
      await rated.setPolicy(`${SENDS_ALLOWED}\n${HOURLY_CAP}`);
      const tasks = [await rated.startTask([SEND]), await rated.startTask([SEND])];
      const two = await platform.agent.flood(FLOOD, (n) => send(tasks[n % 2]!, subject(n)));
      await platform.afterTheWindow();
      const ids = (answers: ExecuteAnswer[]) =>
        tally(answers).admitted.map((answer) => answer.actionId);
      await capped.settled(task.taskId, ids(one));
      await rated.settled(
        tasks.map((t) => t.taskId),
        ids(two),
      );
      expect({
        maxActions: { held: tally(one).admitted.length, refusals: tally(one).refusals },
        hourlyCap: { held: tally(two).admitted.length, refusals: tally(two).refusals },
        final: [
          ...(await capped.statusesOf(task.taskId, ids(one))),
          ...(await rated.statusesOf(
            tasks.map((t) => t.taskId),
            ids(two),
          )),
        ],
      }).toEqual({
        maxActions: { held: 2, refusals: { ACTION_NOT_ALLOWED: FLOOD - 2 } },
        hourlyCap: { held: 3, refusals: { POLICY_DENIED: FLOOD - 3 } },
        final: Array.from({ length: 5 }, () => 'completed'),
      });
      // Exactly the sends admitted reached Gmail, and nothing else.
      expect(platform.sentFrom(capped.email, 'flood').sort()).toEqual(heldSubjects(one));
      expect(platform.sentFrom(rated.email, 'flood').sort()).toEqual(heldSubjects(two));
    });
  });

  // The tests run together (each run is its own person's), as several agents would at once.
  describe.concurrent('50 simultaneous requests against every limit, 20 runs each', () => {
    /** One flood: how many were admitted, how the rest were refused, what it cost. */
    interface Run {
      admitted: number;
      refusals: Record<string, number>;
      /** Each admitted action's status as gateway.actions.get reports it, approvals given. */
      statuses: string[];
      /** What the merchant double took for the admitted actions, in minor units. */
      merchantMinor: number;
    }
    const overshoots: { test: string; over: number; runs: number }[] = [];

    afterAll(() => {
      for (const { test, over, runs } of overshoots) {
        console.log(`${test}: the limit overshot in ${over} of ${runs} runs`);
      }
      const over = overshoots.reduce((sum, entry) => sum + entry.over, 0);
      const runs = overshoots.reduce((sum, entry) => sum + entry.runs, 0);
      console.log(`limit overshoots: ${over} of ${runs} runs`);
    });

    /**
     * `RUNS` floods, each by a fresh person (so no run's counts or HTTP rate limits carry into the
     * next) against fresh tasks; whatever waits for approval is approved, all at once. Counts the
     * runs that overshot the limit; the test then checks every run.
     */
    async function floods(
      test: string,
      limit: { admitted: number; spendMinor?: number },
      flood: () => Promise<{ person: Person; tasks: StartedTask[]; answers: ExecuteAnswer[] }>,
    ): Promise<Run[]> {
      const runs: Run[] = [];
      for (let index = 0; index < RUNS; index += 1) {
        const { person, tasks, answers } = await flood();
        const { admitted, refusals } = tally(answers);
        await Promise.all(
          admitted.flatMap((answer) =>
            answer.status === 'pending_approval' ? [person.approve(answer.approvalId)] : [],
          ),
        );
        const ids = admitted.map((answer) => answer.actionId);
        const statuses = await Promise.all(
          ids.map(async (id) => {
            for (const task of tasks) {
              const [status] = await standings(task, [id]);
              if (status !== 'NOT_FOUND') return status!;
            }
            return 'NOT_FOUND';
          }),
        );
        const orders = platform.ordersFor(ids);
        const merchantMinor = orders.reduce((sum, order) => sum + order.amountMinor, 0);
        runs.push({ admitted: admitted.length, refusals, statuses, merchantMinor });
      }
      const over = runs.filter(
        (run) =>
          run.admitted > limit.admitted ||
          (limit.spendMinor !== undefined && run.merchantMinor > limit.spendMinor),
      ).length;
      overshoots.push({ test, over, runs: runs.length });
      console.log(
        `${test}: admitted per run ${runs.map((run) => run.admitted).join(',')}` +
          (limit.spendMinor === undefined
            ? ''
            : `; the merchant took ${runs.map((run) => run.merchantMinor).join(',')}`),
      );
      return runs;
    }

    it('maxActions=3: exactly 3 of 50 simultaneous reads run, the rest are refused ACTION_NOT_ALLOWED', async ({
      expect,
    }) => {
      const runs = await floods('maxActions=3, 50 reads', { admitted: 3 }, async () => {
        const person = await platform.newPerson();
        const task = await person.startTask([READ], { maxActions: 3 });
        const answers = await platform.agent.flood(FLOOD, () => read(task));
        return { person, tasks: [task], answers };
      });
      expect(
        runs.map(({ admitted, refusals, statuses }) => ({ admitted, refusals, statuses })),
      ).toEqual(
        runs.map(() => ({
          admitted: 3,
          refusals: { ACTION_NOT_ALLOWED: FLOOD - 3 },
          statuses: ['completed', 'completed', 'completed'],
        })),
      );
    });

    for (const [amount, fits] of [
      [1_000, 1],
      [300, 3],
    ] as const) {
      it(`a task’s spend limit of 1000: exactly ${fits} of 50 simultaneous purchases of ${amount} admitted; all approved, the merchant takes ${fits * amount}`, async ({
        expect,
      }) => {
        const runs = await floods(
          `spend limit 1000, 50 purchases of ${amount}`,
          { admitted: fits, spendMinor: 1_000 },
          async () => {
            const person = await platform.newPerson({ connect: false });
            const task = await person.startTask([BUY], {
              spend: { maxMinor: 1_000, currency: 'EUR' },
            });
            const answers = await platform.agent.flood(FLOOD, () => buy(task, amount));
            return { person, tasks: [task], answers };
          },
        );
        expect(runs).toEqual(
          runs.map(() => ({
            admitted: fits,
            refusals: { ACTION_NOT_ALLOWED: FLOOD - fits },
            statuses: Array.from({ length: fits }, () => 'completed'),
            merchantMinor: fits * amount,
          })),
        );
      });
    }

    it('a tenant’s hourly cap of 3: exactly 3 of 50 simultaneous sends are held, the rest are refused POLICY_DENIED', async ({
      expect,
    }) => {
      const runs = await floods('hourly cap 3, 50 sends', { admitted: 3 }, async () => {
        const person = await platform.newPerson();
        await person.setPolicy(`${SENDS_ALLOWED}\n${HOURLY_CAP}`);
        const task = await person.startTask([SEND]);
        const answers = await platform.agent.flood(FLOOD, (n) => send(task, `rate ${n}`));
        return { person, tasks: [task], answers };
      });
      expect(
        runs.map(({ admitted, refusals, statuses }) => ({
          admitted,
          refusals,
          statuses: statuses.map(admittedSend),
        })),
      ).toEqual(
        runs.map(() => ({
          admitted: 3,
          refusals: { POLICY_DENIED: FLOOD - 3 },
          statuses: ['held or sent', 'held or sent', 'held or sent'],
        })),
      );
    });

    it('a tenant’s hourly cap of 3: exactly 3 of 50 simultaneous reads from two tasks of one person run, the rest are refused POLICY_DENIED', async ({
      expect,
    }) => {
      const runs = await floods(
        'hourly cap 3, 50 reads from two tasks',
        { admitted: 3 },
        async () => {
          const person = await platform.newPerson();
          await person.setPolicy(HOURLY_CAP);
          const tasks = [await person.startTask([READ]), await person.startTask([READ])];
          const answers = await platform.agent.flood(FLOOD, (n) => read(tasks[n % 2]!));
          return { person, tasks, answers };
        },
      );
      expect(
        runs.map(({ admitted, refusals, statuses }) => ({ admitted, refusals, statuses })),
      ).toEqual(
        runs.map(() => ({
          admitted: 3,
          refusals: { POLICY_DENIED: FLOOD - 3 },
          statuses: ['completed', 'completed', 'completed'],
        })),
      );
    });

    it('a tenant’s daily spend cap of 1000: exactly 3 of 50 simultaneous purchases of 300 from two tasks admitted; all approved, the merchant takes 900', async ({
      expect,
    }) => {
      const runs = await floods(
        'daily spend cap 1000, 50 purchases of 300 from two tasks',
        { admitted: 3, spendMinor: 1_000 },
        async () => {
          const person = await platform.newPerson({ connect: false });
          await person.setPolicy(DAILY_SPEND_CAP);
          const limits = { spend: { maxMinor: 100_000, currency: 'EUR' } };
          const tasks = [
            await person.startTask([BUY], limits),
            await person.startTask([BUY], limits),
          ];
          const answers = await platform.agent.flood(FLOOD, (n) => buy(tasks[n % 2]!, 300));
          return { person, tasks, answers };
        },
      );
      expect(runs).toEqual(
        runs.map(() => ({
          admitted: 3,
          refusals: { POLICY_DENIED: FLOOD - 3 },
          statuses: ['completed', 'completed', 'completed'],
          merchantMinor: 900,
        })),
      );
    });
  });

  // Last, because it moves this process's clock (the platform runs in it) past a task's lifetime.
  describe('task expiry', () => {
    it('a send held when its task expires never leaves', async () => {
      const person = await platform.newPerson();
      await person.setPolicy(SENDS_ALLOWED);
      const task = await person.startTask([SEND], {}, SHORTEST_TASK_MINUTES);
      const subjects = ['expired 1', 'expired 2', 'expired 3'];
      const held = (await Promise.all(subjects.map((subject) => send(task, subject)))).map(
        admittedId,
      );
      expect(await standings(task, held)).toEqual(held.map(() => 'scheduled'));

      // Rather than wait five minutes, the clock moves past the task's lifetime (Date only:
      // timers stay real, so the sender keeps its pace). The window passes with it.
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      vi.setSystemTime(Date.now() + SHORTEST_TASK_MINUTES * 60_000 + 1_000);
      const listed = await person.call<{ tasks: { id: string; status: string }[] }>(
        'GET',
        '/v1/tasks',
      );
      expect(listed.body.tasks.find((t) => t.id === task.taskId)?.status).toBe('expired');
      expect(await standings(task, held.slice(0, 1))).toEqual(['CAPABILITY_EXPIRED']);

      await platform.afterTheWindow();
      const audit = await person.settled(task.taskId, held);
      expect({
        reachedGmail: platform.sentFrom(person.email, 'expired'),
        final: await person.statusesOf(task.taskId, held),
        audit,
      }).toEqual({
        reachedGmail: [],
        final: held.map(() => 'cancelled'),
        audit: held.map(() => 'action.cancelled'),
      });
    });
  });
});
