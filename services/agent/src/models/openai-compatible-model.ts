import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import {
  APICallError,
  generateText,
  jsonSchema,
  RetryError,
  type JSONSchema7,
  type ModelMessage,
  type ToolSet,
} from 'ai';
import { ContractError } from '@heroagent/contracts';
import type { ProviderConfig } from '../config.js';
import type { ChatModel, ConversationTurn, ModelReply, ToolSpec } from './chat-model.js';

// The SDK's warnings (an unsupported setting, say) would go to stderr past the logger.
globalThis.AI_SDK_LOG_WARNINGS = false;

function toMessages(turns: readonly ConversationTurn[]): ModelMessage[] {
  const messages: ModelMessage[] = [];
  for (const turn of turns) {
    switch (turn.role) {
      case 'user':
        messages.push({ role: 'user', content: turn.text });
        break;
      case 'assistant':
        messages.push({
          role: 'assistant',
          content: [
            ...(turn.text === '' ? [] : [{ type: 'text' as const, text: turn.text }]),
            ...turn.calls.map((call) => ({
              type: 'tool-call' as const,
              toolCallId: call.id,
              toolName: call.name,
              input: call.input,
            })),
          ],
        });
        break;
      case 'tool':
        messages.push({
          role: 'tool',
          content: [
            {
              type: 'tool-result',
              toolCallId: turn.callId,
              toolName: turn.name,
              output: { type: 'text', value: turn.output },
            },
          ],
        });
        break;
      default: {
        const unknown: never = turn;
        throw new Error(`unknown turn ${JSON.stringify(unknown)}`);
      }
    }
  }
  return messages;
}

function toToolSet(tools: readonly ToolSpec[]): ToolSet {
  // No `execute`: the SDK only reports the calls; the agent performs them through the gateway.
  return Object.fromEntries(
    tools.map((tool) => [
      tool.name,
      { description: tool.description, inputSchema: jsonSchema(tool.inputSchema as JSONSchema7) },
    ]),
  );
}

/**
 * A model behind any OpenAI-compatible chat-completions endpoint (Ollama, llama.cpp, vLLM, or a
 * hosted provider), through the Vercel AI SDK. One `complete` is one HTTP request: no retries
 * behind the agent's back, no tool executed by the SDK, no telemetry sent anywhere.
 */
export class OpenAiCompatibleModel implements ChatModel {
  private readonly model;

  constructor(
    private readonly provider: ProviderConfig,
    private readonly timeoutMs: number,
  ) {
    this.model = createOpenAICompatible({
      name: provider.id,
      baseURL: provider.baseUrl,
      ...(provider.apiKey === undefined ? {} : { apiKey: provider.apiKey }),
    })(provider.model);
  }

  async complete(request: Parameters<ChatModel['complete']>[0]): Promise<ModelReply> {
    try {
      const result = await generateText({
        model: this.model,
        instructions: request.system,
        messages: toMessages(request.turns),
        ...(request.tools.length === 0 ? {} : { tools: toToolSet(request.tools) }),
        temperature: 0,
        maxRetries: 0,
        timeout: this.timeoutMs,
        abortSignal: request.signal,
      });
      return {
        text: result.text,
        calls: result.toolCalls.map((call) => ({
          id: call.toolCallId,
          name: call.toolName,
          input: call.input as unknown,
        })),
      };
    } catch (error) {
      if (request.signal.aborted) throw error;
      throw this.unavailable(error);
    }
  }

  private unavailable(error: unknown): ContractError {
    const cause = RetryError.isInstance(error) ? error.lastError : error;
    const detail = APICallError.isInstance(cause)
      ? cause.statusCode === undefined
        ? 'could not be reached'
        : `answered HTTP ${cause.statusCode}`
      : error instanceof Error && error.name === 'TimeoutError'
        ? `did not answer within ${this.timeoutMs} ms`
        : 'answered with something that is not a chat completion';
    return new ContractError(
      'MODEL_UNAVAILABLE',
      `the model provider "${this.provider.id}" ${detail}`,
    );
  }
}
