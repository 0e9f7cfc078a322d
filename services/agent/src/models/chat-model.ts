/** A tool as a model is offered it. */
export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Record<string, unknown>;
}

/** A tool call the model made: its id, the tool, and its input (an object, or the raw text if it was not JSON). */
export interface ModelToolCall {
  readonly id: string;
  readonly name: string;
  readonly input: unknown;
}

/** One turn of a conversation with a model, in the agent's own terms (not a provider's). */
export type ConversationTurn =
  | { readonly role: 'user'; readonly text: string }
  | { readonly role: 'assistant'; readonly text: string; readonly calls: readonly ModelToolCall[] }
  | {
      readonly role: 'tool';
      readonly callId: string;
      readonly name: string;
      readonly output: string;
    };

export interface ModelReply {
  readonly text: string;
  readonly calls: readonly ModelToolCall[];
}

/**
 * One model call: the conversation so far and the tools on offer in, the model's text and tool
 * calls out. Implementations never execute a tool: the agent does, through the gateway. A model
 * that cannot be reached fails with MODEL_UNAVAILABLE.
 */
export interface ChatModel {
  complete(request: {
    readonly system: string;
    readonly turns: readonly ConversationTurn[];
    readonly tools: readonly ToolSpec[];
    readonly signal: AbortSignal;
  }): Promise<ModelReply>;
}
