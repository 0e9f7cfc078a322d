import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ChatModelDouble,
  lastUserText,
  offeredTools,
  toolResults,
  type ChatRequest,
} from '../src/index.js';

interface Completion {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: {
    index: number;
    message: {
      role: string;
      content: string | null;
      tool_calls?: {
        id: string;
        type: string;
        function: { name: string; arguments: string };
      }[];
    };
    finish_reason: string;
    logprobs: null;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

interface ErrorReply {
  error: { message: string; type: string; code: string | null };
}

let double: ChatModelDouble;

beforeEach(async () => {
  double = await ChatModelDouble.start({ model: 'llama3.2' });
});

afterEach(async () => {
  await double.close();
});

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

function ask(text: string, extra: Record<string, unknown> = {}) {
  return { model: 'llama3.2', messages: [{ role: 'user', content: text }], ...extra };
}

async function post(
  body: unknown,
  {
    url = `${double.url}/chat/completions`,
    headers = {},
  }: { url?: string; headers?: Record<string, string> | undefined } = {},
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function complete(body: unknown, headers?: Record<string, string>): Promise<Completion> {
  const { status, json } = await post(body, { headers });
  expect(status).toBe(200);
  return json as Completion;
}

describe('replies', () => {
  it('answers a scripted text reply in the documented shape', async () => {
    double.script({ text: 'Hello there!' });
    const before = Math.floor(Date.now() / 1000);
    const reply = await complete(ask('Hi'));
    expect(reply).toMatchObject({
      object: 'chat.completion',
      model: 'llama3.2',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello there!' },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
    });
    expect(reply.id).toMatch(/^chatcmpl-/);
    expect(reply.created).toBeGreaterThanOrEqual(before);
    expect(reply.choices[0]!.message).not.toHaveProperty('tool_calls');
    const { usage } = reply;
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  });

  it('answers a tool call with JSON-string arguments and finish_reason tool_calls', async () => {
    double.script({
      toolCalls: [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: '{"city":"Oslo"}', id: 'call_fixed' },
      ],
    });
    const reply = await complete(ask('Weather in Paris and Oslo?', { tools: [weatherTool] }));
    const [choice] = reply.choices;
    expect(choice!.finish_reason).toBe('tool_calls');
    expect(choice!.message.content).toBeNull();
    const calls = choice!.message.tool_calls!;
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
    });
    expect(calls[0]!.id).toMatch(/^call_/);
    expect(calls[1]).toEqual({
      id: 'call_fixed',
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
    });
    expect(JSON.parse(calls[0]!.function.arguments)).toEqual({ city: 'Paris' });
  });

  it('lets a function turn read the request, with the helpers', async () => {
    const seen: { index: number; user: string; tools: string[] }[] = [];
    const turn = (request: ChatRequest, index: number) => {
      seen.push({ index, user: lastUserText(request), tools: offeredTools(request) });
      const results = toolResults(request);
      if (results.length === 0) {
        return { toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] };
      }
      return { text: `It is ${results.map((r) => `${r.name}: ${r.content}`).join(', ')}` };
    };
    double.script(turn, turn);

    const first = await complete(ask('Weather in Paris?', { tools: [weatherTool] }));
    const call = first.choices[0]!.message.tool_calls![0]!;
    const second = await complete({
      model: 'llama3.2',
      tools: [weatherTool],
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'sunny, 21°C' },
      ],
    });

    expect(second.choices[0]!.message.content).toBe('It is get_weather: sunny, 21°C');
    expect(seen).toEqual([
      { index: 0, user: 'Weather in Paris?', tools: ['get_weather'] },
      { index: 1, user: 'Weather in Paris?', tools: ['get_weather'] },
    ]);
    expect(toolResults(double.requests[1]!)).toEqual([
      { toolCallId: call.id, name: 'get_weather', content: 'sunny, 21°C' },
    ]);
  });

  it('takes scripted turns in order, then the fallback', async () => {
    double.script({ text: 'one' }).script({ text: 'two' }, { text: 'three' });
    expect(double.pending).toBe(3);
    const texts: (string | null)[] = [];
    for (let turn = 0; turn < 3; turn += 1) {
      texts.push((await complete(ask(`turn ${turn}`))).choices[0]!.message.content);
    }
    expect(texts).toEqual(['one', 'two', 'three']);

    double.fallback = (request) => ({ text: `echo: ${lastUserText(request)}` });
    expect((await complete(ask('again'))).choices[0]!.message.content).toBe('echo: again');
    expect((await complete(ask('and again'))).choices[0]!.message.content).toBe('echo: and again');

    double.script({ text: 'scripted wins' });
    expect((await complete(ask('x'))).choices[0]!.message.content).toBe('scripted wins');
  });

  it('echoes the requested model and answers with the default when none is named', async () => {
    double.fallback = { text: 'ok' };
    expect((await complete(ask('hi', { model: 'qwen2.5:7b' }))).model).toBe('qwen2.5:7b');
    expect((await complete({ messages: [{ role: 'user', content: 'hi' }] })).model).toBe(
      'llama3.2',
    );
  });
});

describe('errors', () => {
  it('answers 500 script_exhausted when nothing is left', async () => {
    const { status, json } = await post(ask('hi'));
    expect(status).toBe(500);
    expect(json).toEqual({
      error: {
        message: 'the chat model double has no scripted reply left',
        type: 'server_error',
        param: null,
        code: 'script_exhausted',
      },
    });
  });

  it('refuses streaming with 400 stream_unsupported', async () => {
    double.script({ text: 'never sent' });
    const { status, json } = await post(ask('hi', { stream: true }));
    expect(status).toBe(400);
    expect(json).toMatchObject({
      error: { type: 'invalid_request_error', code: 'stream_unsupported' },
    });
    expect((json as ErrorReply).error.message).toEqual(expect.any(String));
    expect(double.pending).toBe(1);
  });

  it('answers 400 invalid_json to a malformed body and invalid_request without messages', async () => {
    const bad = await post('{"model": "llama3.2", "messages": [');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({
      error: { type: 'invalid_request_error', code: 'invalid_json' },
    });
    const missing = await post({ model: 'llama3.2' });
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({
      error: { type: 'invalid_request_error', code: 'invalid_request' },
    });
    const notArray = await post({ model: 'llama3.2', messages: 'hi' });
    expect(notArray.status).toBe(400);
    expect(double.requests).toEqual([]);
  });

  it('passes a scripted error reply through', async () => {
    double.script(
      {
        status: 429,
        error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit' },
      },
      () => ({ status: 503, error: { message: 'overloaded' } }),
    );
    const limited = await post(ask('hi'));
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual({
      error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit' },
    });
    const down = await post(ask('hi'));
    expect(down.status).toBe(503);
    expect(down.json).toMatchObject({
      error: { message: 'overloaded', type: 'server_error', code: null },
    });
  });

  it('answers 404 to an unknown path', async () => {
    const { status, json } = await post(ask('hi'), { url: `${double.url}/completions` });
    expect(status).toBe(404);
    expect(json).toMatchObject({ error: { type: 'invalid_request_error' } });
  });
});

describe('API key', () => {
  it('answers 401 invalid_api_key without the bearer key', async () => {
    const keyed = await ChatModelDouble.start({ apiKey: 'sk-test-123' });
    try {
      keyed.fallback = { text: 'welcome' };
      const url = `${keyed.url}/chat/completions`;
      const refused: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }];
      for (const headers of refused) {
        const { status, json } = await post(ask('hi'), { url, headers });
        expect(status).toBe(401);
        expect(json).toMatchObject({
          error: { type: 'invalid_request_error', code: 'invalid_api_key' },
        });
      }
      const models = await fetch(`${keyed.url}/models`);
      expect(models.status).toBe(401);

      const ok = await post(ask('hi'), { url, headers: { authorization: 'Bearer sk-test-123' } });
      expect(ok.status).toBe(200);
      expect((ok.json as Completion).choices[0]!.message.content).toBe('welcome');
    } finally {
      await keyed.close();
    }
  });
});

describe('base URL and models', () => {
  it('serves under /v1 and without it', async () => {
    expect(double.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    double.fallback = { text: 'ok' };
    const root = double.url.replace(/\/v1$/, '');
    const { status } = await post(ask('hi'), { url: `${root}/chat/completions` });
    expect(status).toBe(200);
    expect(double.requests).toHaveLength(1);
  });

  it('lists the configured models', async () => {
    const response = await fetch(`${double.url}/models`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      object: 'list',
      data: [{ id: 'llama3.2', object: 'model', created: 0, owned_by: 'chat-model-double' }],
    });

    const several = await ChatModelDouble.start({ model: ['a', 'b'] });
    try {
      const listed = (await (await fetch(`${several.url}/models`)).json()) as {
        data: { id: string }[];
      };
      expect(listed.data.map((model) => model.id)).toEqual(['a', 'b']);
      expect((await fetch(`${several.url}/models/b`)).status).toBe(200);
      expect((await fetch(`${several.url}/models/c`)).status).toBe(404);
    } finally {
      await several.close();
    }
  });
});

describe('recording', () => {
  it('records every request and keeps a transcript of all text received', async () => {
    double.fallback = { text: 'noted' };
    await complete(
      ask('My name is Ada', { temperature: 0.2, tools: [weatherTool], tool_choice: 'auto' }),
    );
    await complete({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'second' }],
      vendor_option: { keep_alive: '5m' },
    });
    await post(ask('streamed', { stream: true }));
    await post('not json at all');

    expect(double.requests).toHaveLength(3);
    expect(double.requests[0]).toEqual({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'My name is Ada' }],
      temperature: 0.2,
      tools: [weatherTool],
      tool_choice: 'auto',
    });
    expect(double.requests[1]!.vendor_option).toEqual({ keep_alive: '5m' });
    expect(double.requests[2]!.stream).toBe(true);

    const transcript = double.transcript();
    for (const seen of ['My name is Ada', 'second', 'keep_alive', 'streamed', 'not json at all']) {
      expect(transcript).toContain(seen);
    }
    expect(transcript).toContain(JSON.stringify(double.requests[0]));
    expect(transcript).not.toContain('sk-secret-never-sent');
  });
});

describe('hang', () => {
  it('holds a hanging request until close()', async () => {
    const hanging = await ChatModelDouble.start();
    hanging.script({ hang: true });
    let settled = false;
    const pending = fetch(`${hanging.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ask('wait')),
    }).finally(() => (settled = true));
    await expect.poll(() => hanging.requests.length).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(settled).toBe(false);

    await hanging.close();
    await expect(pending).rejects.toThrow();
  });

  it('hangs from a function turn too', async () => {
    const hanging = await ChatModelDouble.start();
    hanging.script(() => ({ hang: true }));
    const pending = fetch(`${hanging.url}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify(ask('wait')),
    });
    await expect.poll(() => hanging.requests.length).toBe(1);
    await hanging.close();
    await expect(pending).rejects.toThrow();
  });
});
