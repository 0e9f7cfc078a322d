// What validating a request at the boundary costs: `gateway.actions.execute` as the gateway's
// handler checks every incoming request, accepted and refused.
import { executeAction, toValidationIssues } from '@heroagent/contracts';
import { loadBenchConfig } from './config.js';
import { printMachine, printOperations, printTimedPlan } from './report.js';
import { compareOpsPerSecond } from './timing.js';

const config = loadBenchConfig();
printMachine('contract validation: gateway.actions.execute request');

const valid = {
  capability: `${Buffer.from(JSON.stringify({ tenant: 't1', scopes: ['calendar'] })).toString('base64url')}.${'s'.repeat(86)}`,
  action: 'calendar.events.create',
  params: {
    summary: 'Lunch with Bob',
    attendees: ['bob@example.com', 'ada@example.com'],
    startsAt: '2026-11-25T12:00:00Z',
    durationMinutes: 60,
    reminders: [{ method: 'popup', minutes: 10 }],
  },
  idempotencyKey: 'task-42:step-3',
  rationale: 'Bob is free on Tuesday at noon; inviting him to lunch as asked.',
};
// Four faults at once, as a confused or hostile caller sends: every one is reported.
const invalid = {
  ...valid,
  capability: 'not a token',
  action: 'gmail.>',
  idempotencyKey: 'k',
  scopes: ['https://mail.google.com/'],
};

if (!executeAction.request.safeParse(valid).success) throw new Error('the valid request fails');
if (executeAction.request.safeParse(invalid).success) throw new Error('the invalid request passes');

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
const cases = [
  {
    name: 'safeParse(valid request)',
    bytes: bytes(valid),
    operation: () => executeAction.request.safeParse(valid),
  },
  {
    name: 'safeParse(invalid request, 4 faults)',
    bytes: bytes(invalid),
    operation: () => executeAction.request.safeParse(invalid),
  },
  {
    // What a handler does with a refused request: the issues go back to the caller.
    name: 'safeParse(invalid) + toValidationIssues',
    bytes: bytes(invalid),
    operation: () => {
      const result = executeAction.request.safeParse(invalid);
      return result.success ? [] : toValidationIssues(result.error);
    },
  },
];
printTimedPlan(config);
const rates = await compareOpsPerSecond(
  cases.map((entry) => entry.operation),
  { durationMs: config.caseMs, rounds: config.rounds },
);
printOperations(
  'op',
  cases.map(({ name, bytes }, index) => ({ name, bytes, perSecond: rates[index]! })),
);
