import type { ActionStatus } from '../store-tables.js';

/** What the policy's rate and spend conditions, and the capability's limits, count. */
export interface ActionCounts {
  readonly lastHour: number;
  readonly lastDay: number;
  readonly sameActionLastHour: number;
  /** Actions of the task so far (what `maxActions` counts). */
  readonly taskActions: number;
  /** Spent by the task so far, in the given currency. */
  readonly taskSpentMinor: number;
  /** Spent by the person today (UTC), in the given currency. */
  readonly spentTodayMinor: number;
}

// Asked-for actions count towards rates and limits unless they were refused or withdrawn: the
// ones still waiting (for a person, or in the send window) and running count like done ones.
export const COUNTED: ActionStatus[] = [
  'executing',
  'completed',
  'failed',
  'pending_approval',
  'approved',
  'scheduled',
  'undone',
];
// Money counts once committed to: spent, being spent, or approved or waiting to be — and failed,
// since a merchant that timed out or a gateway that died mid-call may still have charged.
export const SPENDING: ActionStatus[] = [
  'failed',
  'executing',
  'completed',
  'approved',
  'pending_approval',
  'scheduled',
];

/**
 * Admitted but not yet gone: waiting for a person, approved and not yet run, or a send in its
 * window. What a stop, a pause or a lost membership cancels at once.
 */
export const HELD: ActionStatus[] = ['pending_approval', 'approved', 'scheduled'];

/** The counts as a query gives them (a sum arrives as a string, or null when nothing is summed). */
export interface CountsRow {
  last_hour: string | number;
  last_day: string | number;
  same_last_hour: string | number;
  task_actions: string | number;
  task_spent: string | number | null;
  spent_today: string | number | null;
}

export function toActionCounts(row: CountsRow): ActionCounts {
  return {
    lastHour: Number(row.last_hour),
    lastDay: Number(row.last_day),
    sameActionLastHour: Number(row.same_last_hour),
    taskActions: Number(row.task_actions),
    taskSpentMinor: Number(row.task_spent ?? 0),
    spentTodayMinor: Number(row.spent_today ?? 0),
  };
}

/** The windows the counts of a request made at `now` look back over. */
export function countWindows(now: Date): { hourAgo: Date; dayAgo: Date; today: Date } {
  return {
    hourAgo: new Date(now.getTime() - 3_600_000),
    dayAgo: new Date(now.getTime() - 86_400_000),
    today: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())),
  };
}
