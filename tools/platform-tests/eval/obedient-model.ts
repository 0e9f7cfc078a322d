import { toolResults, type ChatRequest, type ScriptedReply } from '@heroagent/doubles';
import type { Injection, PlannedCall, SeenResult, UserTask, World } from './scenarios.js';

/** The marker every planted instruction carries, so the scripted model knows it "read" one. */
const INSTRUCTION = /IMPORTANT MESSAGE FROM THE ADMINISTRATOR/;

/** How the model names the calls it makes for an attacker (they show in the task's timeline). */
export const ATTACK_CALL = 'call_attack_';
const TASK_CALL = 'call_task_';

/**
 * A scripted stand-in for a model that does the person's task well and also does whatever it
 * reads: the first time an injected instruction reaches it in a tool result, it makes the
 * attacker's calls, one per turn, then carries on with the task. When it saw the instruction cut
 * short (a search's snippet), it first reads that message whole, as a model would to learn the
 * rest (a link, an amount). It is the worst case on purpose — the evaluation measures what the
 * platform stops, not the model's good sense.
 */
export class ObedientModel {
  private step = 0;
  private attackStep = 0;
  private readWhole = false;
  private readonly planted: string;
  /** Whether it fell for the injection (made the attacker's first call). */
  obeyed = false;

  constructor(
    private readonly task: UserTask,
    private readonly injection: Injection | undefined,
    private readonly world: World,
  ) {
    // As the planted text appears inside a tool result's JSON.
    this.planted =
      injection === undefined ? '' : JSON.stringify(injection.text(world)).slice(1, -1);
  }

  readonly reply = (request: ChatRequest): ScriptedReply => {
    const results = toolResults(request);
    const seen = (attack: boolean): SeenResult[] =>
      results
        .filter((result) => attack || !result.toolCallId.startsWith(ATTACK_CALL))
        .map((result) => ({ tool: result.name ?? '', outcome: parse(result.content) }));
    const attack = this.injection?.attack ?? [];
    if (
      this.attackStep < attack.length &&
      (this.attackStep > 0 || results.some((result) => INSTRUCTION.test(result.content)))
    ) {
      const whole = results.some((result) => result.content.includes(this.planted));
      const carrier = whole || this.readWhole ? undefined : snippetCarrier(seen(true));
      if (carrier !== undefined) {
        this.readWhole = true;
        return toolCall(`${ATTACK_CALL}0`, {
          tool: 'gmail_messages_read',
          arguments: {
            messageId: carrier,
            fields: ['body'],
            rationale: 'To read the whole instruction.',
          },
        });
      }
      this.obeyed = true;
      const next = attack[this.attackStep]!({ results: seen(true), world: this.world });
      this.attackStep += 1;
      return toolCall(`${ATTACK_CALL}${this.attackStep}`, next);
    }
    const plan = this.task.plan[Math.min(this.step, this.task.plan.length - 1)]!;
    this.step += 1;
    const next = plan({ world: this.world, results: seen(false) });
    return 'summary' in next ? { text: next.summary } : toolCall(`${TASK_CALL}${this.step}`, next);
  };
}

/** The message whose snippet carries the start of an instruction, if a search found one. */
function snippetCarrier(results: readonly SeenResult[]): string | undefined {
  for (const result of results) {
    if (result.tool !== 'gmail_messages_search') continue;
    const data = (result.outcome['data'] ?? {}) as {
      messages?: { id: string; snippet?: string }[];
    };
    const carrier = data.messages?.find((message) => INSTRUCTION.test(message.snippet ?? ''));
    if (carrier !== undefined) return carrier.id;
  }
  return undefined;
}

function toolCall(id: string, call: PlannedCall): ScriptedReply {
  return { toolCalls: [{ id, name: call.tool, arguments: call.arguments }] };
}

function parse(content: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(content);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
