import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { toolResults } from '@heroagent/doubles';
import {
  axeViolations,
  launchChromium,
  screenshot,
  signInToConsole,
} from '../support/console-browser.js';
import { REPO_ROOT } from '../support/platform.js';
import { ME, startEvalPlatform, type EvalPlatform } from '../eval/eval-platform.js';

const CONSOLE_DIR = join(REPO_ROOT, 'apps', 'console', 'dist');
const VERIFIER = join(REPO_ROOT, 'tools', 'audit-verify', 'dist', 'main.js');
const OWNER = { sub: 'eval-person', email: ME, name: 'Eval Person' };

const PAGES = [
  ['activity', 'Activity'],
  ['tasks', 'Tasks'],
  ['approvals', 'Approvals'],
  ['connections', 'Connections'],
  ['policies', 'Policies'],
  ['integrity', 'Integrity'],
  ['exports', 'Exports and SIEM'],
  ['agents', 'Agents'],
  ['your-data', 'Your data'],
] as const;

// The console in real Chromium (Debian's, through playwright-core), served by the real gateway,
// over the whole platform: agent with a scripted model, vault-proxy, audit, Google doubled.
describe('the console, in Chromium', { timeout: 120_000 }, () => {
  let platform: EvalPlatform;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    if (!existsSync(join(CONSOLE_DIR, 'index.html'))) {
      throw new Error('the console is not built: run `pnpm build` (pnpm test does)');
    }
    platform = await startEvalPlatform({ kind: 'scripted' }, { consoleDir: CONSOLE_DIR });
    browser = await launchChromium();
    ({ page, errors } = await signInToConsole(browser, platform.origin, platform.provider, OWNER));
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await platform?.close();
  });

  it('signs in through the OpenID Connect double and shows who is signed in where', async () => {
    await expect(
      page.getByRole('heading', { level: 1, name: 'Activity' }).isVisible(),
    ).resolves.toBe(true);
    await expect(page.locator('header').innerText()).resolves.toContain(ME);
    await expect(page.locator('header').innerText()).resolves.toMatch(/owner/i);
  });

  it('watches a task run, live, from the request to its summary', async () => {
    const day = '2027-03-01';
    platform.calendar.addEvent(ME, {
      summary: 'Dentist',
      start: { dateTime: `${day}T09:00:00Z` },
      end: { dateTime: `${day}T10:00:00Z` },
    });
    platform.model!.script(
      {
        toolCalls: [
          {
            name: 'calendar_events_list',
            arguments: {
              timeMin: `${day}T00:00:00Z`,
              timeMax: `${day}T23:59:59Z`,
              rationale: 'To see what is on that day.',
            },
          },
        ],
      },
      // The model takes its time, so the page shows the task while it runs.
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        return { text: `On ${day} you have the dentist at 09:00.` };
      },
    );
    await page.goto('/#/tasks');
    await page.getByLabel('What should it do?').fill(`What is on my calendar on ${day}?`);
    // Before it starts, the page shows what the words ask for: reading the calendar, no more.
    await page.getByTestId('task-may').getByText('List events').waitFor();
    await expect(page.getByTestId('task-may').innerText()).resolves.not.toMatch(/Send|Create/);
    await page.getByLabel('Through the account').selectOption({ label: ME });
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByText('To see what is on that day.').waitFor();
    await expect(page.getByTestId('agent-status').innerText()).resolves.toBe('running');
    await page.getByText(`Finished: On ${day} you have the dentist at 09:00.`).waitFor();
    await expect(page.getByTestId('agent-status').innerText()).resolves.toBe('completed');
    await screenshot(page, 'task-timeline');
  });

  it('approves a pending send, with the exact parameters shown, and the mail leaves', async () => {
    platform.gmail.addMessage({
      from: 'Dana <dana@partner.example>',
      to: ME,
      subject: 'Contract draft',
      body: 'Could you confirm you received it?',
      account: ME,
    });
    platform.model!.script(
      {
        toolCalls: [
          {
            name: 'gmail_messages_search',
            arguments: { query: 'Contract draft', rationale: 'To find the mail you mean.' },
          },
        ],
      },
      (request) => {
        const found = JSON.parse(toolResults(request).at(-1)!.content) as {
          data: { messages: { id: string }[] };
        };
        return {
          toolCalls: [
            {
              name: 'gmail_messages_send',
              arguments: {
                to: ['dana@partner.example'],
                subject: 'Re: Contract draft',
                body: 'Received, thank you.',
                inReplyTo: found.data.messages[0]!.id,
                rationale: 'You asked me to confirm receipt to its sender.',
              },
            },
          ],
        };
      },
      { text: 'Confirmed receipt to Dana.' },
    );
    const sentBefore = platform.gmail.sent.length;
    const started = await platform.call('POST', '/v1/tasks', {
      title: 'Confirm receipt',
      request: 'Tell whoever sent me the contract draft that I received it.',
      actions: ['gmail.messages.search', 'gmail.messages.send'],
      connectionId: platform.connectionId,
    });
    expect(started.status).toBe(201);
    await page.goto('/#/approvals');
    const card = page.getByRole('article').filter({ hasText: 'gmail.messages.send' });
    await card.waitFor({ timeout: 20_000 }).catch(async (error: unknown) => {
      const { task } = started.body as { task: { id: string } };
      const timeline = await platform.call('GET', `/v1/tasks/${task.id}/events`);
      throw new Error(`${String(error)}; the task's timeline: ${JSON.stringify(timeline.body)}`);
    });
    await expect(card.getByLabel(/Exact parameters/).innerText()).resolves.toContain(
      'dana@partner.example',
    );
    await expect(card.innerText()).resolves.toMatch(
      /you did not name dana@partner.example; it was first seen in a mail/,
    );
    await screenshot(page, 'approval-pending');
    await card.getByRole('button', { name: 'Approve' }).click();
    await page
      .getByRole('status')
      .getByText(/Approved and done/)
      .first()
      .waitFor();
    await waitUntil(() => platform.gmail.sent.length > sentBefore);
    expect(platform.gmail.sent.at(-1)!.to).toContain('dana@partner.example');
  });

  it('undoes a calendar change from the activity log, and shows the result', async () => {
    const day = '2027-03-02';
    platform.model!.script(
      {
        toolCalls: [
          {
            name: 'calendar_events_create',
            arguments: {
              summary: 'Planning',
              start: { dateTime: `${day}T14:00:00Z` },
              end: { dateTime: `${day}T15:00:00Z` },
              attendees: ['sam@example.com'],
              rationale: 'You asked for a planning hour with Sam.',
            },
          },
        ],
      },
      { text: 'Booked.' },
    );
    const planning = await platform.call<{ task: { id: string } }>('POST', '/v1/tasks', {
      title: 'Planning',
      request: `Book an hour of planning with sam@example.com on ${day} at 14:00 UTC.`,
      actions: ['calendar.events.create'],
      connectionId: platform.connectionId,
    });
    expect(planning.status).toBe(201);
    await waitUntil(() =>
      platform.calendar.listEvents(ME).some((event) => event.summary === 'Planning'),
    ).catch(async (error: unknown) => {
      const timeline = await platform.call('GET', `/v1/tasks/${planning.body.task.id}/events`);
      throw new Error(`${String(error)}; the task's timeline: ${JSON.stringify(timeline.body)}`);
    });
    await page.goto('/#/activity');
    await page.getByLabel('Action (e.g. gmail.messages.send)').fill('calendar.events.create');
    await page.getByRole('button', { name: 'Apply' }).click();
    const row = page
      .getByRole('row')
      .filter({ hasText: 'You asked for a planning hour with Sam.' });
    await row.getByRole('button', { name: 'Undo' }).first().click();
    await page.getByText(/^Undone: calendar.events.create was taken back/).waitFor();
    await screenshot(page, 'activity-undone');
    expect(platform.calendar.listEvents(ME).some((event) => event.summary === 'Planning')).toBe(
      false,
    );
  });

  it('downloads the verifiable bundle, which the offline verifier accepts (and a tampered copy fails); verify now says intact', async () => {
    await page.goto('/#/integrity');
    await page.getByTestId('chain-events').waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the verifiable bundle' }).click(),
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'console-bundle-'));
    const bundle = join(dir, download.suggestedFilename());
    await download.saveAs(bundle);
    expect(download.suggestedFilename()).toMatch(/^heroagent-audit-.*\.jsonl$/);
    const status = await platform.call<{ latestCheckpoint: { kid: string } | null }>(
      'GET',
      '/v1/integrity',
    );
    const kid = status.body.latestCheckpoint!.kid;
    const verify = (file: string) =>
      spawnSync(process.execPath, [VERIFIER, file, '--trust', kid], { encoding: 'utf8' });
    const good = verify(bundle);
    expect(good.status, good.stdout + good.stderr).toBe(0);
    const lines = (await readFile(bundle, 'utf8')).split('\n');
    const tampered = join(dir, 'tampered.jsonl');
    const victim = lines.findIndex((line) => line.includes('"action.executed"'));
    expect(victim).toBeGreaterThan(0);
    lines[victim] = lines[victim]!.replace('"success"', '"failure"');
    await writeFile(tampered, lines.join('\n'));
    expect(verify(tampered).status).not.toBe(0);
    await rm(dir, { recursive: true, force: true });

    await page.getByRole('button', { name: 'Verify now' }).click();
    await page.getByText(/The record verifies/).waitFor({ timeout: 20_000 });
    await screenshot(page, 'integrity-verified');
  });

  it('lets an auditor read everything and change nothing: no write is offered, and the gateway refuses each', async () => {
    const invited = await platform.call<{ token: string }>('POST', '/v1/tenant/invitations', {
      email: 'audrey@example.com',
      role: 'auditor',
    });
    expect(invited.status).toBe(201);
    const auditor = await signInToConsole(browser, platform.origin, platform.provider, {
      sub: 'auditor-1',
      email: 'audrey@example.com',
      name: 'Audrey Auditor',
    });
    const call = (method: string, path: string, body?: unknown) =>
      auditor.page.evaluate(
        async ({ method, path, body }) => {
          const session = (await (await fetch('/v1/session')).json()) as { csrfToken: string };
          const response = await fetch(path, {
            method,
            headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
          const text = await response.text();
          return {
            status: response.status,
            body: text === '' ? undefined : (JSON.parse(text) as { code?: string }),
          };
        },
        { method, path, body },
      );
    expect(
      (await call('POST', '/v1/invitations/accept', { token: invited.body.token })).status,
    ).toBe(200);
    await auditor.page.reload();
    await auditor.page.getByRole('navigation', { name: 'Console' }).waitFor();
    await expect(auditor.page.locator('header').innerText()).resolves.toMatch(/auditor/i);

    // Nothing that changes anything is offered.
    await auditor.page.goto('/#/tasks');
    await auditor.page.getByText('Auditors read; they do not start tasks.').waitFor();
    await auditor.page.goto('/#/policies');
    await auditor.page.getByLabel('Your policies (Cedar)').waitFor();
    await expect(auditor.page.getByRole('button', { name: 'Save policies' }).count()).resolves.toBe(
      0,
    );
    await expect(
      auditor.page.getByLabel('Your policies (Cedar)').getAttribute('readonly'),
    ).resolves.not.toBeNull();
    await auditor.page.goto('/#/agents');
    await auditor.page.getByTestId('agents-state').waitFor();
    await expect(auditor.page.getByRole('button', { name: /all agents/ }).count()).resolves.toBe(0);
    // An action waits for approval: the auditor sees it, exactly, and cannot decide it.
    platform.model!.script(
      {
        toolCalls: [
          {
            name: 'gmail_messages_send',
            arguments: {
              to: ['someone@elsewhere.example'],
              subject: 'Hello',
              body: 'Hello.',
              rationale: 'A send nobody named, so it waits.',
            },
          },
        ],
      },
      { text: 'Waiting.' },
    );
    const waits = await platform.call('POST', '/v1/tasks', {
      title: 'A send that waits',
      request: 'Say hello to my new contact.',
      actions: ['gmail.messages.send'],
      connectionId: platform.connectionId,
    });
    expect(waits.status).toBe(201);
    await auditor.page.goto('/#/approvals');
    const card = auditor.page.getByRole('article').filter({ hasText: 'A send nobody named' });
    await card.waitFor({ timeout: 20_000 });
    await expect(card.getByRole('button').count()).resolves.toBe(0);
    await screenshot(auditor.page, 'auditor-policies');

    // And the gateway refuses every write, whatever the page offers.
    const tasks = await platform.call<{ tasks: { id: string }[] }>('GET', '/v1/tasks?userId=all');
    const someTask = tasks.body.tasks[0]!.id;
    const writes: [string, string, unknown][] = [
      ['POST', '/v1/tasks', { title: 'x', actions: ['gmail.messages.search'], request: 'x' }],
      ['POST', `/v1/tasks/${someTask}/stop`, {}],
      ['POST', '/v1/tenant/policy', { text: '', expectedVersion: 0 }],
      ['POST', '/v1/tenant/agents/pause', undefined],
      [
        'POST',
        '/v1/tenant/agent-settings',
        { allowCloud: true, providerId: null, cloudMayReadBodies: true },
      ],
      ['POST', '/v1/tenant/invitations', { email: 'x@example.com', role: 'admin' }],
      ['POST', `/v1/approvals/${someTask}/approve`, { note: '' }],
      ['POST', `/v1/actions/${someTask}/undo`, {}],
      ['POST', '/v1/tenant/close', { confirm: 'x' }],
    ];
    for (const [method, path, body] of writes) {
      const answer = await call(method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body?.code, `${method} ${path}`).toBe('FORBIDDEN');
    }
    await auditor.context.close();
  });

  it('passes an accessibility check (axe-core, WCAG 2.1 AA) on every page, and is photographed', async () => {
    const found: Record<string, unknown> = {};
    for (const [path, title] of PAGES) {
      await page.goto(`/#/${path}`);
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
      await page.waitForLoadState('networkidle');
      const violations = await axeViolations(page);
      if (violations.length > 0) found[path] = violations;
      await screenshot(page, path);
    }
    expect(found).toEqual({});
  });

  it('works on a phone: each page, at 390 × 844, passes the same check', async () => {
    const phone = await browser.newContext({
      baseURL: platform.origin,
      viewport: { width: 390, height: 844 },
      storageState: await page.context().storageState(),
    });
    const small = await phone.newPage();
    const found: Record<string, unknown> = {};
    for (const [path, title] of PAGES) {
      await small.goto(`/#/${path}`);
      await small.getByRole('heading', { level: 1, name: title }).waitFor();
      await small.waitForLoadState('networkidle');
      const violations = await axeViolations(small);
      if (violations.length > 0) found[path] = violations;
      // Nothing wider than the screen but tables, which scroll on their own.
      const overflow = await small.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      if (overflow > 0) found[`${path} (overflow)`] = overflow;
      await screenshot(small, `phone-${path}`);
    }
    await phone.close();
    expect(found).toEqual({});
  });

  it("revokes a connection, which then shows as revoked with Google's receipt", async () => {
    await page.goto('/#/connections');
    await page.getByRole('button', { name: `Revoke ${ME}` }).click();
    await page.getByText(`${ME} is revoked here; Google's confirmation follows.`).waitFor();
    // vault-proxy's queue asks Google at once; the view shows the receipt once it has it.
    const receipt = page.getByText(/^revoked: Google answered revoked/);
    for (let attempt = 0; attempt < 50 && (await receipt.count()) === 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await page.reload();
      // The view has loaded when it shows the connection's state, either one.
      await page.getByText(/^revok(ing|ed): /).waitFor();
    }
    await receipt.waitFor();
    expect(platform.provider.revokedTokens.length).toBeGreaterThan(0);
    await screenshot(page, 'connection-revoked');
  });

  it('raised no script error and no Content-Security-Policy violation', () => {
    expect(errors).toEqual([]);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the condition was not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
