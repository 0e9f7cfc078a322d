import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A text part of a message's content (the only part type the double reads). */
export interface ChatTextPart {
  type: 'text';
  text: string;
  [key: string]: unknown;
}

/** A function call an assistant message asked for; `arguments` is a JSON string. */
export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** One message of a chat-completions request. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'developer';
  content?: string | null | ChatTextPart[];
  name?: string;
  /** On assistant messages: the calls the model made. */
  tool_calls?: ChatToolCall[];
  /** On tool messages: the call this message answers. */
  tool_call_id?: string;
  [key: string]: unknown;
}

/** A function tool offered to the model. */
export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

export type ChatToolChoice =
  'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

/**
 * A chat-completions request body as the double received it. The fields it understands are typed;
 * everything else the client sent is kept as is.
 */
export interface ChatRequest {
  model?: string;
  messages: ChatMessage[];
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  stop?: string | string[];
  seed?: number;
  stream?: boolean;
  response_format?: { type: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** A tool call a scripted turn makes; `arguments` given as an object is serialised to JSON. */
export interface ScriptedToolCall {
  name: string;
  arguments: Record<string, unknown> | string;
  /** Defaults to a fresh `call_…` id. */
  id?: string;
}

/** A successful answer: some text, some tool calls, or both. */
export interface ScriptedAnswer {
  text?: string;
  toolCalls?: ScriptedToolCall[];
}

/** An error answer, sent with `status` and an OpenAI-shaped `{ error }` body. */
export interface ScriptedError {
  status: number;
  error: { message: string; type?: string; code?: string };
}

/** No answer at all: the request hangs until `close()`. */
export interface ScriptedHang {
  hang: true;
}

export type ScriptedReply = ScriptedAnswer | ScriptedError | ScriptedHang;

/**
 * Decides the reply from the request; `index` is the request's position in
 * {@link ChatModelDouble.requests}.
 */
export type ScriptedReplyFunction = (
  request: ChatRequest,
  index: number,
) => ScriptedReply | Promise<ScriptedReply>;

/** One turn of a script: a fixed reply, or a function that reads the request to decide it. */
export type ScriptedTurn = ScriptedReply | ScriptedReplyFunction;

export interface ChatModelDoubleOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** The model id(s) `GET /v1/models` lists; the first answers requests that name none. */
  model?: string | readonly string[];
}

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const DEFAULT_MODEL = 'chat-model-double';

/**
 * A test double of an OpenAI-compatible chat-completions server, following the OpenAI Chat
 * Completions API (https://platform.openai.com/docs/api-reference/chat/create), the shape Ollama,
 * llama.cpp and vLLM also serve: `POST /v1/chat/completions` (non-streaming) and
 * `GET /v1/models`, bearer API keys, and `{ error: { message, type, code } }` error bodies.
 *
 * Its answers come from a script the test sets with {@link ChatModelDouble.script}, then from
 * {@link ChatModelDouble.fallback}; with neither it answers 500 `script_exhausted`. It records
 * every request it receives.
 */
export class ChatModelDouble {
  /** Every chat-completions request body received, in order (refused streaming ones too). */
  readonly requests: ChatRequest[] = [];
  /** Answers a request when the script queue is empty. */
  fallback: ScriptedTurn | undefined;
  readonly models: readonly string[];
  private readonly queue: ScriptedTurn[] = [];
  /** Every body received on any path, as text, for {@link ChatModelDouble.transcript}. */
  private readonly received: string[] = [];
  private server: Server | undefined;
  private port = 0;
  private released: () => void = () => undefined;
  private readonly closed = new Promise<void>((resolve) => (this.released = resolve));

  private constructor(
    readonly apiKey: string | undefined,
    models: readonly string[],
  ) {
    this.models = models.length > 0 ? models : [DEFAULT_MODEL];
  }

  static async start(options: ChatModelDoubleOptions = {}): Promise<ChatModelDouble> {
    const models = typeof options.model === 'string' ? [options.model] : (options.model ?? []);
    const double = new ChatModelDouble(options.apiKey, models);
    double.server = createServer((request, response) => double.handle(request, response));
    await new Promise<void>((resolve) => double.server!.listen(0, '127.0.0.1', resolve));
    double.port = (double.server.address() as AddressInfo).port;
    return double;
  }

  /** The base URL an OpenAI client takes, ending in `/v1`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** The default model id: the first configured one. */
  get model(): string {
    return this.models[0] ?? DEFAULT_MODEL;
  }

  /** Appends turns to the script; each chat-completions request takes the next one. */
  script(...turns: ScriptedTurn[]): this {
    this.queue.push(...turns);
    return this;
  }

  /** How many scripted turns are still waiting. */
  /** Forgets the turns still scripted and the fallback (between tests). */
  clearScript(): void {
    this.queue.length = 0;
    this.fallback = undefined;
  }

  get pending(): number {
    return this.queue.length;
  }

  /**
   * All text the server has received: each request body as JSON (bodies that were not JSON as
   * they came), one per line, so a test can assert that a value never reached the model.
   */
  transcript(): string {
    return this.received.join('\n');
  }

  /** Ends hanging requests (their connections are dropped) and stops the server. */
  async close(): Promise<void> {
    this.released();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      this.answer(request, raw).then(
        (reply) => {
          if (reply === 'hang' || response.destroyed) return;
          response
            .writeHead(reply.status, { 'content-type': 'application/json' })
            .end(JSON.stringify(reply.body));
        },
        (error: unknown) => {
          if (response.destroyed) return;
          const message = error instanceof Error ? error.message : String(error);
          response
            .writeHead(500, { 'content-type': 'application/json' })
            .end(JSON.stringify(errorBody(message, 'server_error', 'internal_error')));
        },
      );
    });
  }

  private async answer(
    request: IncomingMessage,
    raw: string,
  ): Promise<{ status: number; body: object } | 'hang'> {
    let parsed: unknown;
    let json = raw !== '';
    try {
      parsed = json ? JSON.parse(raw) : undefined;
    } catch {
      json = false;
    }
    if (raw !== '') this.received.push(json ? JSON.stringify(parsed) : raw);

    if (this.apiKey !== undefined && request.headers.authorization !== `Bearer ${this.apiKey}`) {
      return {
        status: 401,
        body: errorBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'),
      };
    }
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
    const method = request.method ?? 'GET';
    if (method === 'GET' && (path === '/v1/models' || path === '/models')) {
      return { status: 200, body: { object: 'list', data: this.models.map(modelView) } };
    }
    const modelPath = /^(?:\/v1)?\/models\/(.+)$/.exec(path);
    if (method === 'GET' && modelPath !== null) {
      const id = decodeURIComponent(modelPath[1] ?? '');
      if (this.models.includes(id)) return { status: 200, body: modelView(id) };
      return {
        status: 404,
        body: errorBody(
          `The model '${id}' does not exist`,
          'invalid_request_error',
          'model_not_found',
          'model',
        ),
      };
    }
    if (method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/chat/completions')) {
      return {
        status: 404,
        body: errorBody(
          `Invalid URL (${method} ${request.url ?? '/'})`,
          'invalid_request_error',
          'unknown_url',
        ),
      };
    }

    if (!json) {
      return {
        status: 400,
        body: errorBody(
          'We could not parse the JSON body of your request.',
          'invalid_request_error',
          'invalid_json',
        ),
      };
    }
    if (!isChatRequest(parsed)) {
      return {
        status: 400,
        body: errorBody(
          "'messages' must be an array of messages, each with a 'role'.",
          'invalid_request_error',
          'invalid_request',
          'messages',
        ),
      };
    }
    this.requests.push(parsed);
    const index = this.requests.length - 1;
    if (parsed.stream === true) {
      return {
        status: 400,
        body: errorBody(
          'The chat model double does not stream; send "stream": false.',
          'invalid_request_error',
          'stream_unsupported',
          'stream',
        ),
      };
    }

    const turn = this.queue.shift() ?? this.fallback;
    if (turn === undefined) {
      return {
        status: 500,
        body: errorBody(
          'the chat model double has no scripted reply left',
          'server_error',
          'script_exhausted',
        ),
      };
    }
    const reply = typeof turn === 'function' ? await turn(parsed, index) : turn;
    if (isHang(reply)) {
      await this.closed;
      return 'hang';
    }
    if (isError(reply)) {
      return {
        status: reply.status,
        body: errorBody(
          reply.error.message,
          reply.error.type ?? (reply.status >= 500 ? 'server_error' : 'invalid_request_error'),
          reply.error.code ?? null,
        ),
      };
    }
    return { status: 200, body: this.completion(parsed, reply) };
  }

  private completion(request: ChatRequest, reply: ScriptedAnswer): object {
    const toolCalls: ChatToolCall[] = (reply.toolCalls ?? []).map((call) => ({
      id: call.id ?? `call_${hex(24)}`,
      type: 'function',
      function: {
        name: call.name,
        arguments:
          typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
      },
    }));
    const promptTokens = estimateTokens(
      JSON.stringify(request.messages) + JSON.stringify(request.tools ?? []),
    );
    const completionTokens = estimateTokens(
      (reply.text ?? '') + (toolCalls.length > 0 ? JSON.stringify(toolCalls) : ''),
    );
    return {
      id: `chatcmpl-${hex(29)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: typeof request.model === 'string' ? request.model : this.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: reply.text ?? null,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          },
          finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    };
  }
}

/** The text of a message's content: the string, or its text parts joined; `''` when none. */
export function messageText(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part) => part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join('');
}

/** The text of the request's last user message; `''` when there is none. */
export function lastUserText(request: ChatRequest): string {
  const last = request.messages.findLast((message) => message.role === 'user');
  return last === undefined ? '' : messageText(last);
}

/** A tool result the request carries back to the model. */
export interface ToolResult {
  toolCallId: string;
  /** The function's name, from the assistant message whose `tool_calls` has the same id. */
  name?: string;
  content: string;
}

/** The request's tool messages, in order, each with the name of the function it answers. */
export function toolResults(request: ChatRequest): ToolResult[] {
  const names = new Map<string, string>();
  for (const message of request.messages) {
    if (message.role !== 'assistant' || !Array.isArray(message.tool_calls)) continue;
    for (const call of message.tool_calls) names.set(call.id, call.function.name);
  }
  return request.messages
    .filter((message) => message.role === 'tool')
    .map((message) => {
      const toolCallId = message.tool_call_id ?? '';
      const name = names.get(toolCallId);
      return {
        toolCallId,
        ...(name === undefined ? {} : { name }),
        content: messageText(message),
      };
    });
}

/** The names of the function tools the request offers the model. */
export function offeredTools(request: ChatRequest): string[] {
  return (request.tools ?? []).flatMap((tool) =>
    typeof tool.function?.name === 'string' ? [tool.function.name] : [],
  );
}

function isHang(reply: ScriptedReply): reply is ScriptedHang {
  return 'hang' in reply && reply.hang === true;
}

function isError(reply: ScriptedReply): reply is ScriptedError {
  return 'status' in reply && 'error' in reply;
}

function isChatRequest(body: unknown): body is ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const { messages } = body as { messages?: unknown };
  return (
    Array.isArray(messages) &&
    messages.every(
      (message) =>
        typeof message === 'object' &&
        message !== null &&
        typeof (message as { role?: unknown }).role === 'string',
    )
  );
}

function errorBody(
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): ErrorBody {
  return { error: { message, type, param, code } };
}

function modelView(id: string) {
  return { id, object: 'model', created: 0, owned_by: 'chat-model-double' };
}

function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function hex(length: number): string {
  let out = '';
  while (out.length < length) out += randomUUID().replaceAll('-', '');
  return out.slice(0, length);
}
