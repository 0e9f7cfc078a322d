import { expect } from 'vitest';
import { leavesTheApi, type GatewayFixture } from './fixture.js';
import { person } from './people.js';

/**
 * An owner of a new tenant with a Google connection granted `scopes`, the tenant's `policy` if
 * given, and a task that may take `actions` (listed: no words, so nothing is derived or held).
 */
export async function ownerWithTask(
  fixture: GatewayFixture,
  actions: string[],
  scopes: string,
  policy?: string,
): Promise<{ task: { id: string }; capability: string }> {
  const { browser } = await fixture.signIn(person('owner'));
  const account = person('mailbox');
  fixture.provider.nextUser(account);
  await browser.follow(
    `${fixture.origin}/v1/connections/google/start?scopes=${scopes}`,
    leavesTheApi(fixture.origin),
  );
  const connection = [...fixture.vault.connections.values()].find(
    (candidate) => candidate.account === account.email,
  )!;
  if (policy !== undefined) {
    const saved = await fixture.call(browser, 'POST', '/v1/tenant/policy', {
      text: policy,
      expectedVersion: 0,
    });
    expect(saved.status).toBe(200);
  }
  const started = await fixture.call(browser, 'POST', '/v1/tasks', {
    title: 'Mail',
    actions,
    connectionId: connection.id,
    limits: {},
    ttlMinutes: 60,
  });
  expect(started.status).toBe(201);
  return (await started.json()) as { task: { id: string }; capability: string };
}

/** Each audit event's name, by the action or approval it is about. */
export async function eventsAbout(
  fixture: GatewayFixture,
  ids: readonly string[],
): Promise<Map<string, string[]>> {
  const names = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const { event } of await fixture.auditEvents()) {
    const about = [event.data.actionId, event.data.approvalId].filter(
      (value): value is string => typeof value === 'string' && names.has(value),
    );
    for (const id of about) names.get(id)!.push(event.name);
  }
  return names;
}
