import { messageText, type ChatRequest, type ScriptedReply } from '@heroagent/doubles';
import {
  CONFIGURATIONS,
  type Configuration,
  type EvalPerson,
  type EvalPlatform,
} from './eval-platform.js';
import { runCase, type CaseResult, type HeldWrite, type ModelRoutes } from './run-case.js';
import type { Scenario } from './scenarios.js';

export type { CaseResult, HeldWrite } from './run-case.js';

/** A count out of a whole. */
export interface Figure {
  readonly count: number;
  readonly of: number;
}

/** The figures of one configuration: AgentDojo's, the needless approvals and the overshoots. */
export interface ConfigurationReport {
  readonly configuration: Configuration;
  readonly cases: readonly CaseResult[];
  /** Benign tasks done, without an attack. */
  readonly utility: Figure;
  /** Tasks done with an injection planted. */
  readonly utilityUnderAttack: Figure;
  readonly attackSuccess: Figure;
  /** How often the model fell for the injection; undefined for a real model (not known). */
  readonly obeyed: Figure | undefined;
  /** The benign tasks' writes held for the person (needless under a policy that allows them). */
  readonly heldWrites: Figure;
  /** Tasks that spent more than their capability allowed. */
  readonly overshoots: Figure;
}

export interface EvalReport {
  readonly configurations: readonly ConfigurationReport[];
}

/**
 * Runs the scenarios in both configurations. Each configuration has `lanes` people, each running
 * one case at a time in their own mailbox and calendar (a case's seeds carry its own tag and day),
 * so cases of different people run side by side; two cases of the same task never run at once,
 * as the scripted model knows a case by the person's request.
 */
export async function runEvaluation(
  platform: EvalPlatform,
  options: {
    scenarios: readonly Scenario[];
    lanes: number;
    timeoutMs: number;
    configurations?: readonly Configuration[];
    onCase?: (result: CaseResult) => void;
  },
): Promise<EvalReport> {
  const routes: ModelRoutes = new Map();
  if (platform.model !== undefined) platform.model.fallback = route(routes);
  const configurations = options.configurations ?? CONFIGURATIONS;
  const people: EvalPerson[] = [];
  for (const configuration of configurations) {
    for (let lane = 0; lane < options.lanes; lane += 1) {
      people.push(await platform.newPerson(configuration));
    }
  }
  const queues = new Map<Configuration, Scenario[]>(
    configurations.map((configuration, index) => [
      configuration,
      // Each configuration starts at a different place in the list, so the same task seldom
      // waits for itself in the other.
      rotate(options.scenarios, Math.floor((index * options.scenarios.length) / 2)),
    ]),
  );
  const running = new Set<string>();
  const results: CaseResult[] = [];
  const lane = async (person: EvalPerson) => {
    const queue = queues.get(person.configuration)!;
    while (queue.length > 0) {
      const next = queue.findIndex((scenario) => !running.has(scenario.task.id));
      if (next < 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      const [scenario] = queue.splice(next, 1);
      running.add(scenario!.task.id);
      try {
        const result = await runCase(platform, person, scenario!, {
          timeoutMs: options.timeoutMs,
          routes,
        });
        results.push(result);
        options.onCase?.(result);
      } finally {
        running.delete(scenario!.task.id);
      }
    }
  };
  await Promise.all(people.map(lane));
  return {
    configurations: configurations.map((configuration) =>
      summarise(
        configuration,
        orderLike(
          options.scenarios,
          results.filter((result) => result.configuration === configuration),
        ),
      ),
    ),
  };
}

/** The scripted model of each case, found by the person's request (the conversation's first turn). */
function route(routes: ModelRoutes) {
  return (request: ChatRequest): ScriptedReply => {
    const first = request.messages.find((message) => message.role === 'user');
    const model = routes.get(first === undefined ? '' : messageText(first));
    if (model === undefined) {
      return { status: 500, error: { message: 'no evaluation case works on this request' } };
    }
    return model.reply(request);
  };
}

function rotate<T>(list: readonly T[], by: number): T[] {
  return [...list.slice(by), ...list.slice(0, by)];
}

function orderLike(scenarios: readonly Scenario[], results: CaseResult[]): CaseResult[] {
  const position = (result: CaseResult) =>
    scenarios.findIndex(
      (scenario) => scenario.task.id === result.task && scenario.injection?.id === result.injection,
    );
  return [...results].sort((a, b) => position(a) - position(b));
}

function summarise(configuration: Configuration, cases: CaseResult[]): ConfigurationReport {
  const benign = cases.filter((result) => result.injection === undefined);
  const attacked = cases.filter((result) => result.injection !== undefined);
  const known = attacked.filter((result) => result.attempted !== undefined);
  const figure = (list: readonly CaseResult[], test: (result: CaseResult) => boolean): Figure => ({
    count: list.filter(test).length,
    of: list.length,
  });
  return {
    configuration,
    cases,
    utility: figure(benign, (result) => result.utility),
    utilityUnderAttack: figure(attacked, (result) => result.utility),
    attackSuccess: figure(attacked, (result) => result.attackSucceeded),
    obeyed: known.length === 0 ? undefined : figure(known, (result) => result.attempted === true),
    heldWrites: {
      count: benign.reduce((total, result) => total + result.held.length, 0),
      of: benign.reduce((total, result) => total + result.writes, 0),
    },
    overshoots: figure(cases, (result) => result.overshoot),
  };
}

/** The benign cases whose own writes were held, with the gateway's reasons. */
export function heldCases(
  report: ConfigurationReport,
): { task: string; held: readonly HeldWrite[] }[] {
  return report.cases
    .filter((result) => result.injection === undefined && result.held.length > 0)
    .map((result) => ({ task: result.task, held: result.held }));
}

export const percent = ({ count, of }: Figure) =>
  of === 0 ? 'n/a' : `${((100 * count) / of).toFixed(1)}%`;

const show = (figure: Figure) => `${figure.count}/${figure.of} (${percent(figure)})`;

const DESCRIBED: Record<Configuration, string> = {
  default:
    'default configuration (no tenant policy: every write waits for the person; least privilege)',
  permissive:
    'permissive configuration (a tenant policy allowing every write without approval; broad capability)',
};

/** The report as the evaluation prints it: a table and the figures per configuration. */
export function formatReport(report: EvalReport, model: string): string {
  const lines = [`Agent evaluation (AgentDojo-style), model: ${model}`];
  for (const part of report.configurations) {
    lines.push(
      '',
      `## ${DESCRIBED[part.configuration]}`,
      '',
      '| task | injection | done | attack succeeded | model obeyed | agent | approved/denied | own writes held |',
      '|---|---|---|---|---|---|---|---|',
      ...part.cases.map(
        (result) =>
          `| ${result.task} | ${result.injection ?? '—'} | ${result.utility ? 'yes' : 'NO'} | ${
            result.injection === undefined ? '—' : result.attackSucceeded ? 'YES' : 'no'
          } | ${result.attempted === undefined ? '?' : result.attempted ? 'yes' : 'no'} | ${
            result.agentStatus
          } | ${result.approved}/${result.denied} | ${result.held.length}/${result.writes} |`,
      ),
      '',
      `utility (no attack):   ${show(part.utility)}`,
      `utility under attack:  ${show(part.utilityUnderAttack)}`,
      `attack success rate:   ${show(part.attackSuccess)}`,
      ...(part.obeyed === undefined
        ? []
        : [`model obeyed:          ${show(part.obeyed)} (the scripted model is built to obey)`]),
      `benign writes held:    ${show(part.heldWrites)}${
        part.configuration === 'permissive'
          ? ' — needless: the policy allows them'
          : ' — as the default policy asks'
      }`,
      `limit overshoots:      ${show(part.overshoots)}`,
    );
    for (const result of part.cases.filter((candidate) => !candidate.utility)) {
      lines.push(
        `  not done: ${result.task}${result.injection === undefined ? '' : ` + ${result.injection}`} (${result.agentStatus}; the task may ${result.granted.join(', ') || 'nothing'})`,
      );
    }
    for (const result of part.cases) {
      for (const outcome of result.attackOutcomes) {
        lines.push(`  attack: ${result.task} + ${result.injection ?? ''}: ${outcome}`);
      }
    }
    if (part.configuration === 'permissive') {
      for (const { task, held } of heldCases(part)) {
        for (const write of held) {
          lines.push(`  held: ${task}: ${write.action} (${write.policyId}) ${write.reason}`);
        }
      }
    }
  }
  return lines.join('\n');
}
