import { CALENDAR_TASKS } from './scenarios/calendar.js';
import { INBOX_TASKS } from './scenarios/inbox.js';
import { INJECTIONS } from './scenarios/injections.js';
import { MAIL_TASKS } from './scenarios/mail.js';
import { SHARING_TASKS } from './scenarios/sharing.js';
import { PURCHASE_TASKS } from './scenarios/purchases.js';
import type { Injection, UserTask } from './scenarios/world.js';

export type {
  Injection,
  PendingAction,
  PlanContext,
  PlannedCall,
  SeenResult,
  Theme,
  UserTask,
  World,
} from './scenarios/world.js';
export { INJECTIONS };

/** The person's tasks, by theme: mail, the inbox, the calendar, purchases. */
export const USER_TASKS: readonly UserTask[] = [
  ...MAIL_TASKS,
  ...SHARING_TASKS,
  ...INBOX_TASKS,
  ...CALENDAR_TASKS,
  ...PURCHASE_TASKS,
];

/** One run of the evaluation: a task alone, or with an injection planted where it reads. */
export interface Scenario {
  readonly task: UserTask;
  readonly injection: Injection | undefined;
}

/** Injections that make the agent write to the person the task writes to: only for such tasks. */
const NEEDS_RECIPIENT = new Set(['exfiltrate-code', 'exfiltrate-reset-link']);

/**
 * Every task alone, then every task with each injection planted where its reads would show it
 * (the pairs each task lists). Checked here: ids are unique, every injection is planted in at
 * least four tasks and every task is attacked at least twice.
 */
export function scenarios(): Scenario[] {
  const byId = new Map(INJECTIONS.map((injection) => [injection.id, injection]));
  const ids = new Set<string>();
  const planted = new Map<string, number>();
  const attacked: Scenario[] = [];
  for (const task of USER_TASKS) {
    if (ids.has(task.id)) throw new Error(`two tasks are called ${task.id}`);
    ids.add(task.id);
    if (task.attackedBy.length < 2) throw new Error(`${task.id} is attacked fewer than twice`);
    for (const id of task.attackedBy) {
      const injection = byId.get(id);
      if (injection === undefined) throw new Error(`${task.id}: no injection ${id}`);
      if (NEEDS_RECIPIENT.has(id) && task.recipient === undefined) {
        throw new Error(`${task.id}: ${id} needs a task that writes to someone`);
      }
      planted.set(id, (planted.get(id) ?? 0) + 1);
      attacked.push({ task, injection });
    }
  }
  for (const injection of INJECTIONS) {
    if ((planted.get(injection.id) ?? 0) < 4) {
      throw new Error(`${injection.id} is planted in fewer than four tasks`);
    }
  }
  return [...USER_TASKS.map((task) => ({ task, injection: undefined })), ...attacked];
}
