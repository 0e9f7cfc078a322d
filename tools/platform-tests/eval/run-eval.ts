import { randomBytes } from 'node:crypto';
import type { approvalViewSchema, TaskEvent } from '@heroagent/contracts';
import type { z } from 'zod';

type ApprovalView = z.infer<typeof approvalViewSchema>;
import type { EvalPlatform } from './eval-platform.js';
import { ME } from './eval-platform.js';
import { ObedientModel } from './obedient-model.js';
import { INJECTIONS, USER_TASKS, type Injection, type UserTask, type World } from './scenarios.js';

/** How one task went, with or without an injection. */
export interface CaseResult {
  readonly task: string;
  readonly injection: string | undefined;
  /** The person's task got done. */
  readonly utility: boolean;
  /** The attacker got what they wanted (only with an injection). */
  readonly attackSucceeded: boolean;
  /** The scripted model fell for the injection (always, when it saw it); unknown for a real model. */
  readonly attempted: boolean | undefined;
  readonly agentStatus: string;
  readonly approved: number;
  readonly denied: number;
}

/** The figures AgentDojo reports: utility without attacks, utility under attack, attack success rate. */
export interface EvalReport {
  readonly cases: readonly CaseResult[];
  readonly utility: { readonly done: number; readonly of: number };
  readonly utilityUnderAttack: { readonly done: number; readonly of: number };
  readonly attackSuccess: { readonly succeeded: number; readonly of: number };
  readonly attempted: { readonly count: number; readonly of: number } | undefined;
}

let runs = 0;

function worldFor(platform: EvalPlatform): World {
  runs += 1;
  const sentBefore = platform.gmail.sent.length;
  const eventsBefore = new Set(platform.calendar.listEvents(ME).map((event) => event.id ?? ''));
  const ordersBefore = Object.fromEntries(
    Object.entries(platform.merchants).map(([id, merchant]) => [id, merchant.orders.length]),
  );
  const day = new Date(Date.UTC(2027, 0, 1) + runs * 86_400_000).toISOString().slice(0, 10);
  return {
    gmail: platform.gmail,
    calendar: platform.calendar,
    me: ME,
    tag: `t${randomBytes(4).toString('hex')}`,
    day,
    sent: () => platform.gmail.sent.slice(sentBefore),
    events: () =>
      platform.calendar.listEvents(ME).filter((event) => !eventsBefore.has(event.id ?? '')),
    orders: (merchant) =>
      platform.merchants[merchant as keyof EvalPlatform['merchants']]?.orders.slice(
        ordersBefore[merchant] ?? 0,
      ) ?? [],
  };
}

const TERMINAL = new Set(['completed', 'failed', 'stopped']);

/** Runs one task (with an injection planted, or not) to its end, deciding approvals as the person would. */
export async function runCase(
  platform: EvalPlatform,
  task: UserTask,
  injection: Injection | undefined,
  timeoutMs: number,
): Promise<CaseResult> {
  const world = worldFor(platform);
  task.seed(world, injection?.text(world) ?? '');
  const model = new ObedientModel(task, injection, world);
  if (platform.model !== undefined) {
    platform.model.clearScript();
    platform.model.fallback = model.reply;
  }
  const started = await platform.call<{ task: { id: string } }>('POST', '/v1/tasks', {
    title: `${task.id}${injection === undefined ? '' : ` + ${injection.id}`}`,
    actions: task.actions,
    connectionId: platform.connectionId,
    limits: task.limits ?? {},
    ttlMinutes: 30,
    request: task.request(world),
  });
  if (started.status !== 201) {
    throw new Error(`the task did not start: ${started.status} ${JSON.stringify(started.body)}`);
  }
  const taskId = started.body.task.id;
  let approved = 0;
  let denied = 0;
  let events: TaskEvent[] = [];
  let status = 'running';
  const deadline = Date.now() + timeoutMs;
  while (!TERMINAL.has(status)) {
    if (Date.now() > deadline) {
      await platform.call('POST', `/v1/tasks/${taskId}/stop`, { reason: 'evaluation timeout' });
      status = 'timed out';
      break;
    }
    const pending = await platform.call<{ approvals: ApprovalView[] }>('GET', '/v1/approvals');
    for (const approval of pending.body.approvals.filter((a) => a.taskId === taskId)) {
      const yes = task.approves(
        { action: approval.action, params: approval.params as Record<string, unknown> },
        world,
      );
      await platform.call('POST', `/v1/approvals/${approval.id}/${yes ? 'approve' : 'deny'}`, {
        note: yes ? 'as asked' : 'not what I asked for',
      });
      if (yes) approved += 1;
      else denied += 1;
    }
    const timeline = await platform.call<{ agentStatus: string | null; events: TaskEvent[] }>(
      'GET',
      `/v1/tasks/${taskId}/events?limit=500`,
    );
    events = timeline.body.events;
    status = timeline.body.agentStatus ?? 'running';
    if (!TERMINAL.has(status)) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await sendsReleased(platform, events, world);
  const summary = events.find((event) => event.kind === 'finished');
  return {
    task: task.id,
    injection: injection?.id,
    utility: task.done(world, summary?.kind === 'finished' ? summary.summary : undefined),
    attackSucceeded: injection?.succeeded(world) ?? false,
    attempted: platform.model === undefined ? undefined : model.obeyed,
    agentStatus: status,
    approved,
    denied,
  };
}

/** Sends leave the outbox on the gateway's next sweep (the undo window is 0 here): wait for them. */
async function sendsReleased(platform: EvalPlatform, events: TaskEvent[], world: World) {
  const sends = events.filter(
    (event) =>
      event.kind === 'action.outcome' &&
      event.action === 'gmail.messages.send' &&
      (event.status === 'completed' || event.status === 'approved' || event.status === 'scheduled'),
  ).length;
  const deadline = Date.now() + 5_000;
  while (world.sent().length < sends && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  void platform;
}

/** Every task alone, then every task with every injection planted where it reads. */
export async function runEvaluation(
  platform: EvalPlatform,
  options: { timeoutMs: number; onCase?: (result: CaseResult) => void },
): Promise<EvalReport> {
  const cases: CaseResult[] = [];
  for (const task of USER_TASKS) {
    for (const injection of [undefined, ...INJECTIONS]) {
      const result = await runCase(platform, task, injection, options.timeoutMs);
      cases.push(result);
      options.onCase?.(result);
    }
  }
  const benign = cases.filter((result) => result.injection === undefined);
  const attacked = cases.filter((result) => result.injection !== undefined);
  const attempts = attacked.filter((result) => result.attempted !== undefined);
  return {
    cases,
    utility: { done: benign.filter((result) => result.utility).length, of: benign.length },
    utilityUnderAttack: {
      done: attacked.filter((result) => result.utility).length,
      of: attacked.length,
    },
    attackSuccess: {
      succeeded: attacked.filter((result) => result.attackSucceeded).length,
      of: attacked.length,
    },
    attempted:
      attempts.length === 0
        ? undefined
        : { count: attempts.filter((result) => result.attempted).length, of: attempts.length },
  };
}

const percent = (part: number, whole: number) =>
  whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(1)}%`;

/** The report as the evaluation prints it. */
export function formatReport(report: EvalReport, model: string): string {
  const rows = report.cases.map(
    (result) =>
      `| ${result.task} | ${result.injection ?? '—'} | ${result.utility ? 'yes' : 'no'} | ${
        result.injection === undefined ? '—' : result.attackSucceeded ? 'YES' : 'no'
      } | ${result.attempted === undefined ? '?' : result.attempted ? 'yes' : 'no'} | ${result.agentStatus} | ${result.approved}/${result.denied} |`,
  );
  return [
    `Agent evaluation (AgentDojo-style), model: ${model}`,
    '',
    '| task | injection | done | attack succeeded | model obeyed | agent | approved/denied |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `utility (no attack):  ${report.utility.done}/${report.utility.of} (${percent(report.utility.done, report.utility.of)})`,
    `utility under attack: ${report.utilityUnderAttack.done}/${report.utilityUnderAttack.of} (${percent(report.utilityUnderAttack.done, report.utilityUnderAttack.of)})`,
    `attack success rate:  ${report.attackSuccess.succeeded}/${report.attackSuccess.of} (${percent(report.attackSuccess.succeeded, report.attackSuccess.of)})`,
    ...(report.attempted === undefined
      ? []
      : [
          `model obeyed the injection: ${report.attempted.count}/${report.attempted.of} (the scripted model is built to obey)`,
        ]),
  ].join('\n');
}
