import type * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { ActionDefinition, ActionFacts } from '@heroagent/contracts';
import { ACTION_ENTITIES, ACTION_TYPE, TASK_TYPE, USER_TYPE } from './cedar-schema.js';

/** What the gateway asks the policy about one action. */
export interface PolicyRequest {
  tenantId: string;
  principal: { userId: string; role: 'owner' | 'admin' | 'auditor' | 'member' };
  /** A catalog type, e.g. 'gmail.messages.send'. */
  action: string;
  taskId: string;
  /** From the catalog's `facts(params)`. */
  facts: ActionFacts;
  /** For time conditions (`context.hour`, `context.weekday`). */
  now: Date;
  /** IANA time zone the hour and weekday are read in; 'UTC' when not given. */
  timeZone?: string;
  /** Counted by the caller, not including this action. */
  recentActions: { lastHour: number; lastDay: number; sameActionLastHour: number };
  /** Money already spent today in `facts.amount.currency`, in minor units. */
  spentTodayMinor?: number;
}

/** The Cedar request for a catalog action, or why the request cannot be evaluated. */
export type CedarRequest =
  | {
      ok: true;
      principal: cedar.EntityUid;
      action: cedar.EntityUid;
      resource: cedar.EntityUid;
      context: cedar.Context;
      entities: cedar.Entities;
    }
  | { ok: false; problem: string };

const WEEKDAYS: Readonly<Record<string, number>> = {
  Mon: 1,
  Tue: 2,
  Wed: 3,
  Thu: 4,
  Fri: 5,
  Sat: 6,
  Sun: 7,
};

const clocks = new Map<string, Intl.DateTimeFormat>();

/** Hour (0-23) and ISO weekday (1 = Monday) of `now` in `timeZone`; undefined for a bad zone. */
export function wallClock(
  now: Date,
  timeZone: string,
): { hour: number; weekday: number } | undefined {
  let clock = clocks.get(timeZone);
  if (clock === undefined) {
    try {
      clock = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hour: 'numeric',
        hourCycle: 'h23',
        weekday: 'short',
      });
    } catch {
      return undefined;
    }
    // Zones are few, but spellings are case-insensitive: keep the map from growing without end.
    if (clocks.size >= 1000) clocks.clear();
    clocks.set(timeZone, clock);
  }
  const parts = clock.formatToParts(now);
  const hour = Number(parts.find((part) => part.type === 'hour')?.value);
  const weekday = WEEKDAYS[parts.find((part) => part.type === 'weekday')?.value ?? ''];
  if (!Number.isInteger(hour) || weekday === undefined) return undefined;
  return { hour: hour % 24, weekday };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isStringList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Builds the Cedar request; numbers must be non-negative integers Cedar's Long can hold. */
export function cedarRequest(request: PolicyRequest, definition: ActionDefinition): CedarRequest {
  const { facts, recentActions } = request;
  const spentTodayMinor = request.spentTodayMinor ?? 0;
  const counts = [
    recentActions.lastHour,
    recentActions.lastDay,
    recentActions.sameActionLastHour,
    spentTodayMinor,
  ];
  if (!counts.every(isCount)) {
    return { ok: false, problem: 'recent action counts and spend must be non-negative integers' };
  }
  if (facts.amount !== undefined && !isCount(facts.amount.minor)) {
    return { ok: false, problem: 'the amount must be a non-negative integer of minor units' };
  }
  if (!isStringList(facts.recipients) || !isStringList(facts.recipientDomains)) {
    return { ok: false, problem: 'recipients and recipient domains must be lists of strings' };
  }
  if (!(request.now instanceof Date) || Number.isNaN(request.now.getTime())) {
    return { ok: false, problem: 'the time of the request is not a valid date' };
  }
  const timeZone = request.timeZone ?? 'UTC';
  const clock = wallClock(request.now, timeZone);
  if (clock === undefined) {
    return { ok: false, problem: `"${timeZone}" is not a known IANA time zone` };
  }
  const principal = { type: USER_TYPE, id: request.principal.userId };
  const resource = { type: TASK_TYPE, id: request.taskId };
  return {
    ok: true,
    principal,
    action: { type: ACTION_TYPE, id: definition.type },
    resource,
    context: {
      class: definition.class,
      recipients: [...facts.recipients],
      recipientDomains: [...facts.recipientDomains],
      calendarId: facts.calendarId ?? '',
      hasAmount: facts.amount !== undefined,
      amountMinor: facts.amount?.minor ?? 0,
      currency: facts.amount?.currency ?? '',
      spentTodayMinor,
      hour: clock.hour,
      weekday: clock.weekday,
      actionsLastHour: recentActions.lastHour,
      actionsLastDay: recentActions.lastDay,
      sameActionLastHour: recentActions.sameActionLastHour,
    },
    entities: [
      { uid: principal, attrs: { role: String(request.principal.role) }, parents: [] },
      { uid: resource, attrs: {}, parents: [] },
      ...ACTION_ENTITIES,
    ],
  };
}
