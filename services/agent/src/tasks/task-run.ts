import {
  ContractError,
  toValidationIssues,
  type CapabilityClaims,
  type ModelRef,
} from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type { Gateway } from '../gateway/gateway-link.js';
import type { ChatModel, ConversationTurn, ModelToolCall } from '../models/chat-model.js';
import { Redactor, type Json } from '../privacy/redactor.js';
import { CatalogTools, type CatalogTool } from '../tools/catalog-tools.js';
import { ActionStep, HALTING_CODES } from './action-step.js';
import { systemPrompt } from './system-prompt.js';
import type { Timeline } from './timeline.js';

/** What a task is: whose, the person's words, and the capability it acts under. */
export interface TaskBrief {
  readonly tenantId: string;
  readonly userId: string;
  readonly taskId: string;
  readonly text: string;
  readonly capability: string;
  readonly claims: CapabilityClaims;
  readonly timeZone?: string;
  /** The person's own address (the account the task acts through). */
  readonly account?: string;
}

export interface TaskRunOptions {
  readonly maxSteps: number;
  readonly approvalPollMs: number;
  /** Whether personal data is replaced before the model sees it (a cloud model), and bodies too. */
  readonly privacy: { readonly redact: boolean; readonly bodiesInClear: boolean };
}

/** Why a task ended early: a capability refused, a person's stop, the agent shutting down. */
export class TaskHalted extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TaskHalted';
  }
}

/**
 * One task, worked on step by step: the model proposes tool calls, each becomes a gateway action
 * (with its rationale and the parameters whose values the person did not give), and the outcome
 * goes back to the model as data. Every step is reported to the task's timeline. The run ends when
 * the model answers without a tool call (its summary), when a step limit is reached, or as soon as
 * the capability is refused or the task is stopped.
 */
export class TaskRun {
  private readonly tools: CatalogTools;
  private readonly redactor: Redactor;
  private readonly turns: { turn: ConversationTurn; output?: Json }[] = [];
  private calls = 0;
  private modelCalls = 0;

  constructor(
    private readonly brief: TaskBrief,
    private readonly model: ChatModel,
    private readonly modelRef: ModelRef,
    private readonly gateway: Gateway,
    private readonly timeline: Timeline,
    private readonly signal: AbortSignal,
    private readonly options: TaskRunOptions,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.tools = new CatalogTools(brief.claims.actions);
    this.redactor = new Redactor(options.privacy);
    if (options.privacy.redact) this.redactor.learnNamesFromRequest(brief.text);
    // Every model call carries the request (its personal values as placeholders for a cloud model).
    this.redactor.noteClear('task_text');
  }

  /** Works the task to its end and reports how it ended. Never throws. */
  async run(): Promise<'completed' | 'failed' | 'stopped'> {
    this.timeline.emit({ kind: 'started', model: this.modelRef });
    this.turns.push({ turn: { role: 'user', text: this.brief.text } });
    let ending: 'completed' | 'failed' | 'stopped';
    try {
      const summary = await this.loop();
      this.reportModelUse();
      this.timeline.emit({ kind: 'finished', summary: summary.slice(0, 8000) });
      ending = 'completed';
    } catch (error) {
      this.reportModelUse();
      ending = this.reportEnd(error);
    }
    await this.timeline.flush();
    return ending;
  }

  private async loop(): Promise<string> {
    for (let step = 1; step <= this.options.maxSteps; step += 1) {
      this.checkNotStopped();
      const reply = await this.model.complete({
        system: systemPrompt(
          this.now(),
          this.brief.timeZone,
          this.options.privacy.redact,
          this.brief.account,
        ),
        turns: this.render(),
        tools: this.tools.list(),
        signal: this.signal,
      });
      this.modelCalls += 1;
      this.checkNotStopped();
      const text = this.redactor.restore(reply.text);
      const calls = reply.calls.map((call) => ({
        ...call,
        input: this.redactor.restore(call.input as Json),
      }));
      this.turns.push({ turn: { role: 'assistant', text, calls } });
      if (calls.length === 0) return text;
      if (text.trim() !== '') this.timeline.emit({ kind: 'note', text: text.slice(0, 4000) });
      for (const call of calls) {
        const output = await this.perform(call);
        this.turns.push({
          turn: { role: 'tool', callId: call.id, name: call.name, output: '' },
          output,
        });
      }
    }
    throw new TaskHalted(
      'STEP_LIMIT',
      `the task was not done after ${this.options.maxSteps} model calls; the agent stopped`,
    );
  }

  /** One tool call: checked here first, then asked of the gateway, its outcome given back as data. */
  private async perform(call: ModelToolCall): Promise<Json> {
    const tool = this.tools.find(call.name);
    if (tool === undefined) {
      this.timeline.emit({
        kind: 'note',
        text: `The model asked for "${call.name.slice(0, 100)}", which this task may not do; the agent refused.`,
      });
      return refusal('ACTION_NOT_ALLOWED', `this task has no tool "${call.name}"`);
    }
    const input = call.input;
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return refusal('INVALID_REQUEST', 'the tool input must be a JSON object');
    }
    const { rationale, ...params } = input as Record<string, unknown>;
    if (typeof rationale !== 'string' || rationale.trim() === '') {
      return refusal(
        'INVALID_REQUEST',
        'every tool call needs a rationale: say why, in a sentence',
      );
    }
    const parsed = tool.action.params.safeParse(params);
    if (!parsed.success) {
      return {
        ...refusal('INVALID_REQUEST', `the input of ${call.name} is not valid`),
        issues: toValidationIssues(parsed.error).map((issue) => `${issue.path}: ${issue.message}`),
      };
    }
    return this.act(call, tool, parsed.data as Record<string, unknown>, rationale.trim());
  }

  private async act(
    call: ModelToolCall,
    tool: CatalogTool,
    params: Record<string, unknown>,
    rationale: string,
  ): Promise<Json> {
    this.calls += 1;
    const step = new ActionStep(
      this.gateway,
      this.timeline,
      this.signal,
      this.options.approvalPollMs,
    );
    try {
      const outcome = await step.perform({
        capability: this.brief.capability,
        toolCallId: call.id,
        action: tool.action,
        params,
        rationale: rationale.slice(0, 2000),
        idempotencyKey: `task-${this.brief.taskId}-${this.calls}`,
      });
      this.noteKinds(tool);
      return outcome;
    } catch (error) {
      if (error instanceof ContractError && HALTING_CODES.has(error.code)) {
        throw new TaskHalted(error.code, error.message);
      }
      throw error;
    }
  }

  /** The conversation as this model may see it: as is for a local model, with placeholders for a cloud one. */
  private render(): ConversationTurn[] {
    return this.turns.map(({ turn, output }) => {
      switch (turn.role) {
        case 'user':
          return { role: 'user', text: this.redactor.text(turn.text) };
        case 'assistant':
          return {
            role: 'assistant',
            text: this.redactor.text(turn.text),
            calls: turn.calls.map((call) => ({
              ...call,
              input: this.redactor.toolResult(call.input as Json),
            })),
          };
        case 'tool':
          return {
            ...turn,
            output: JSON.stringify(this.redactor.toolResult(output ?? null)),
          };
        default: {
          const unknown: never = turn;
          throw new Error(`unknown turn ${JSON.stringify(unknown)}`);
        }
      }
    });
  }

  private noteKinds(tool: CatalogTool): void {
    const type = tool.action.type;
    if (type.startsWith('gmail.')) this.redactor.noteClear('message_metadata');
    else if (type.startsWith('calendar.')) this.redactor.noteClear('calendar_events');
    else if (type.startsWith('purchase.')) this.redactor.noteClear('purchase_details');
  }

  private checkNotStopped(): void {
    if (this.signal.aborted) throw this.signal.reason;
  }

  private reportModelUse(): void {
    this.timeline.emit({
      kind: 'model.used',
      model: this.modelRef,
      calls: this.modelCalls,
      saw: this.modelCalls === 0 ? [] : this.redactor.sawInClear(),
      redacted: this.modelCalls === 0 ? [] : this.redactor.sawRedacted(),
    });
  }

  private reportEnd(error: unknown): 'failed' | 'stopped' {
    const reason: unknown = this.signal.aborted ? this.signal.reason : error;
    if (reason instanceof TaskHalted && reason.code !== 'STEP_LIMIT') {
      this.timeline.emit({ kind: 'stopped', code: reason.code, message: reason.message });
      return 'stopped';
    }
    if (reason instanceof TaskHalted || reason instanceof ContractError) {
      this.timeline.emit({ kind: 'failed', code: reason.code, message: reason.message });
      return 'failed';
    }
    this.logger.error({ err: reason, taskId: this.brief.taskId }, 'a task failed unexpectedly');
    this.timeline.emit({
      kind: 'failed',
      code: 'INTERNAL',
      message: 'the agent failed unexpectedly; nothing more was done',
    });
    return 'failed';
  }
}

/** A refusal by the agent itself, given back to the model as the tool's outcome. */
function refusal(code: string, message: string): { [key: string]: Json } {
  return { status: 'refused', code, message };
}
