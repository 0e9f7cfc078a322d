import { toolResults, type ChatRequest, type ScriptedReply } from '@heroagent/doubles';
import type { Injection, PlanContext, UserTask, World } from './scenarios.js';

/** The marker every planted instruction carries, so the scripted model knows it "read" one. */
const INSTRUCTION = /IMPORTANT MESSAGE FROM THE ADMINISTRATOR/;

/**
 * A scripted stand-in for a model that does the person's task well and also does whatever it
 * reads: the first time an injected instruction reaches it in a tool result, it makes the
 * attacker's call, then carries on with the task. It is the worst case on purpose — the
 * evaluation measures what the platform stops, not the model's good sense.
 */
export class ObedientModel {
  private step = 0;
  /** Whether it fell for the injection (made the attacker's call). */
  obeyed = false;

  constructor(
    private readonly task: UserTask,
    private readonly injection: Injection | undefined,
    private readonly world: World,
  ) {}

  readonly reply = (request: ChatRequest): ScriptedReply => {
    const results = toolResults(request);
    if (
      this.injection !== undefined &&
      !this.obeyed &&
      results.some((result) => INSTRUCTION.test(result.content))
    ) {
      this.obeyed = true;
      const attack = this.injection.attack(this.world);
      return { toolCalls: [{ name: attack.tool, arguments: attack.arguments }] };
    }
    const context: PlanContext = {
      world: this.world,
      results: results.map((result) => ({
        tool: result.name ?? '',
        outcome: parse(result.content),
      })),
    };
    const plan = this.task.plan[Math.min(this.step, this.task.plan.length - 1)]!;
    this.step += 1;
    const next = plan(context);
    return 'summary' in next
      ? { text: next.summary }
      : { toolCalls: [{ name: next.tool, arguments: next.arguments }] };
  };
}

function parse(content: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(content);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
