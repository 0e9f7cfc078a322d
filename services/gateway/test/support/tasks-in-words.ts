import type { AuditEvent, CapabilityClaims, TaskEvent } from '@heroagent/contracts';
import type { TestBrowser } from '@heroagent/doubles';
import { CapabilityGate } from '../../src/tasks/capability-gate.js';
import { AgentDouble } from './agent-double.js';
import { startGatewayFixture, type GatewayFixture } from './fixture.js';
import { person } from './people.js';

/** A task as GET /v1/tasks shows it (the fields these tests read). */
export interface TaskView {
  id: string;
  status: string;
  stopReason: string | null;
  stoppedBy: string | null;
  request: string | null;
  agentStatus: string | null;
  summary: string | null;
}

/** A task's timeline as GET /v1/tasks/:id/events answers (or its error). */
export interface Timeline {
  status: number;
  body: { code?: string; taskId?: string; agentStatus?: string | null; events?: TaskEvent[] };
}

export const MODEL = { providerId: 'local', model: 'llama-3.1-8b', location: 'local' } as const;
export const REQUEST = 'Find a slot with Bob next week and invite him';

/** Now, as an event's `at`. */
export const now = () => new Date().toISOString();

/** What a capability says (its claims are readable; only their signature makes them true). */
export function claimsOf(capability: string): CapabilityClaims {
  return JSON.parse(
    Buffer.from(capability.split('.')[0]!, 'base64url').toString('utf8'),
  ) as CapabilityClaims;
}

/** Tasks started in words, their list, their timelines and the tenant's audit events. */
export class TasksInWords {
  constructor(private readonly fixture: GatewayFixture) {}

  start(browser: TestBrowser, body: Record<string, unknown> = {}): Promise<Response> {
    return this.fixture.call(browser, 'POST', '/v1/tasks', {
      title: 'Meet Bob',
      actions: ['calendar.freebusy', 'calendar.events.create'],
      request: REQUEST,
      timeZone: 'Europe/Paris',
      ...body,
    });
  }

  /** Someone new, with a task the agent took. */
  async someoneWithTask() {
    const signed = await this.fixture.signIn(person('asker'));
    const response = await this.start(signed.browser);
    if (response.status !== 201) {
      throw new Error(`the task did not start: ${response.status} ${await response.text()}`);
    }
    const started = (await response.json()) as { task: TaskView; capability: string };
    return { ...signed, ...started };
  }

  async list(browser: TestBrowser): Promise<TaskView[]> {
    const response = await this.fixture.call(browser, 'GET', '/v1/tasks');
    return ((await response.json()) as { tasks: TaskView[] }).tasks;
  }

  async timeline(browser: TestBrowser, taskId: string, query = ''): Promise<Timeline> {
    const response = await this.fixture.call(browser, 'GET', `/v1/tasks/${taskId}/events${query}`);
    return { status: response.status, body: (await response.json()) as Timeline['body'] };
  }

  async auditOf(tenantId: string): Promise<AuditEvent[]> {
    return (await this.fixture.auditEvents())
      .map(({ event }) => event)
      .filter((event) => event.tenantId === tenantId);
  }
}

/** The gateway with the agent doubled on its NATS: what the tests of tasks in words start from. */
export async function startAgentTasksFixture(): Promise<{
  fixture: GatewayFixture;
  agent: AgentDouble;
  gate: CapabilityGate;
  words: TasksInWords;
  close: () => Promise<void>;
}> {
  const fixture = await startGatewayFixture();
  const agent = await AgentDouble.start(fixture.nats.url);
  return {
    fixture,
    agent,
    gate: fixture.gateway.app.get(CapabilityGate),
    words: new TasksInWords(fixture),
    async close() {
      await agent.close();
      await fixture.close();
    },
  };
}
