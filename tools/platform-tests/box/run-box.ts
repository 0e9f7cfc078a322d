import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICES, REPO_ROOT, type Service } from '../support/platform.js';
import {
  type Person,
  SENDS_ALLOWED,
  signInPerson,
  sleep,
  type StartedTask,
} from '../support/hostile-platform.js';
import { executeAction } from '@heroagent/contracts';
import type { ExecuteAnswer } from '../support/hostile-agent.js';
import { BOX_SEND_WINDOW_S, type BoxPlatform } from './box-platform.js';
import type { ServiceReplica } from './replica.js';

/** How hard and how long the box is driven. */
export interface BoxOptions {
  /** Seconds of load under chaos. */
  readonly seconds: number;
  /** Concurrent agent requests. */
  readonly workers: number;
  /** People signed in before the load starts (one tenant each). */
  readonly people: number;
  /** A kill every this many milliseconds. */
  readonly killEveryMs: number;
  /** Every this many kills, the one killed is a NATS node. */
  readonly natsKillEvery: number;
  /** The share of agent requests that are sends (the rest are mailbox searches). */
  readonly sendShare: number;
}

/** What the box measured and checked. */
export interface BoxFigures {
  readonly seconds: number;
  readonly requests: number;
  readonly reads: { admitted: number; failed: number };
  readonly sends: {
    admitted: number;
    refused: number;
    delivered: number;
    twice: number;
    /** Admitted, not delivered: left executing when their replica was killed (never re-run). */
    undelivered: number;
  };
  /** Requests the agent had to ask again (same idempotency key) after no answer. */
  readonly retried: number;
  readonly refusals: Record<string, number>;
  readonly signIns: { completed: number; interrupted: number };
  /** HTTP requests each gateway replica answered through the balancer. */
  readonly servedByGateway: number[];
  /** Tasks in words handed to an agent replica by people who signed in under load. */
  readonly agentTasks: number;
  readonly events: {
    produced: number;
    stored: number;
    perSecond: number;
    lost: number;
    duplicated: number;
    quarantined: number;
  };
  /** Actions with more than one `action.executed` event. */
  readonly executedTwice: number;
  readonly chains: { tenants: number; verified: number; failures: string[] };
  readonly refreshes: { total: number; overlapping: number };
  readonly kills: Record<Service | 'nats', number>;
  readonly restarts: number;
  /** Replica starts that failed (and were tried again). */
  readonly startFailures: string[];
}

const RETRYABLE = new Set(['UNAVAILABLE', 'TIMEOUT', 'INTERNAL']);
const VERIFIER = join(REPO_ROOT, 'tools', 'audit-verify', 'dist', 'main.js');

interface Actor {
  readonly person: Person;
  readonly task: StartedTask;
}

/**
 * Drives the box: people sign in through the balancer, their agent (raw NATS) searches mail and
 * sends through both gateways, more people sign in meanwhile, and replicas and NATS nodes are
 * killed with SIGKILL in a loop; then everything is brought back, and the outcome is checked
 * against what reached Gmail, the gateway's outbox, the audit store and each tenant's offline
 * verification.
 */
export async function runBox(
  box: BoxPlatform,
  options: BoxOptions,
  progress: (line: string) => void = () => undefined,
): Promise<BoxFigures> {
  const began = Date.now();
  const say = (line: string) =>
    progress(`[box ${Math.round((Date.now() - began) / 1000)} s] ${line}`);
  let signedIn = 0;
  let signingIn: Promise<unknown> = Promise.resolve();
  // One sign-in at a time: the provider double signs in whoever it was told last.
  const signIn = (): Promise<Person> => {
    const next = signingIn.then(() => signInPerson(box.origin, box.provider, ++signedIn));
    signingIn = next.catch(() => undefined);
    return next;
  };
  const everyone: Person[] = [];
  const actors: Actor[] = [];
  for (let index = 0; index < options.people; index += 1) {
    const person = await signIn();
    everyone.push(person);
    await person.setPolicy(SENDS_ALLOWED);
    const task = await person.startTask(
      ['gmail.messages.search', 'gmail.messages.send'],
      { maxActions: 10_000 },
      1440,
    );
    actors.push({ person, task });
  }

  say(`${actors.length} people signed in, each with a task`);
  let stopping = false;
  let stoppedAt = Number.POSITIVE_INFINITY;
  const tally = {
    requests: 0,
    retried: 0,
    reads: { admitted: 0, failed: 0 },
    sends: { admitted: 0, refused: 0 },
    refusals: {} as Record<string, number>,
    signIns: { completed: 0, interrupted: 0 },
    agentTasks: 0,
  };
  const admittedSends = new Map<string, string>(); // subject → action id

  let asking = 0;
  const ask = async (actor: Actor, action: string, params: Record<string, unknown>) => {
    asking += 1;
    try {
      return await askUntilAnswered(actor, action, params);
    } finally {
      asking -= 1;
    }
  };
  const askUntilAnswered = async (
    actor: Actor,
    action: string,
    params: Record<string, unknown>,
  ) => {
    const idempotencyKey = `box-${randomUUID()}`;
    for (let attempt = 0; ; attempt += 1) {
      if (attempt > 0) tally.retried += 1;
      let answer: ExecuteAnswer | undefined;
      try {
        answer = await box.agent.raw(
          executeAction.subject,
          {
            capability: actor.task.capability,
            action,
            params,
            idempotencyKey,
            rationale: 'The person asked for it.',
            untrustedParams: [],
          },
          10_000,
        );
      } catch {
        answer = undefined; // no answer: no responder, or the replica died holding the request
      }
      if (answer !== undefined && (answer.ok || !RETRYABLE.has(answer.code))) return answer;
      if (attempt >= 20 || (stopping && Date.now() > stoppedAt + 30_000)) return answer;
      await sleep(250);
    }
  };

  const worker = async (seed: number) => {
    for (let turn = seed; !stopping; turn += 1) {
      const actor = actors[turn % actors.length]!;
      tally.requests += 1;
      if (Math.random() < options.sendShare) {
        const subject = `box ${randomUUID()}`;
        const answer = await ask(actor, 'gmail.messages.send', {
          to: [actor.person.email],
          subject,
          body: 'Sent through a replicated gateway while its replicas were being killed.',
        });
        if (answer?.ok === true) {
          tally.sends.admitted += 1;
          admittedSends.set(subject, answer.response.actionId);
        } else {
          tally.sends.refused += 1;
          const code = answer?.ok === false ? answer.code : 'NO_ANSWER';
          tally.refusals[code] = (tally.refusals[code] ?? 0) + 1;
        }
      } else {
        const answer = await ask(actor, 'gmail.messages.search', { query: 'is:unread' });
        if (answer?.ok === true) tally.reads.admitted += 1;
        else {
          tally.reads.failed += 1;
          const code = answer?.ok === false ? answer.code : 'NO_ANSWER';
          tally.refusals[code] = (tally.refusals[code] ?? 0) + 1;
        }
      }
    }
  };

  const signIns = async () => {
    while (!stopping) {
      try {
        const person = await signIn();
        everyone.push(person);
        tally.signIns.completed += 1;
        // A task in words, for an agent replica to plan (the model double answers at once).
        const handed = await person.call('POST', '/v1/tasks', {
          title: 'Unread mail',
          request: 'Tell me how many unread messages I have.',
          connectionId: person.connectionId,
        });
        if (handed.status === 201) tally.agentTasks += 1;
      } catch {
        tally.signIns.interrupted += 1;
      }
      await sleep(500);
    }
  };

  const startFailures: string[] = [];
  // As a pod is restarted until it runs: a start that fails (NATS node down meanwhile) is retried.
  const restart = async (replica: ServiceReplica): Promise<void> => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        await replica.start(120_000);
        return;
      } catch (error) {
        startFailures.push(String(error).slice(0, 500));
      }
    }
  };
  let natsKills = 0;
  const restarting: Promise<void>[] = [];
  const chaos = async () => {
    let kills = 0;
    while (!stopping) {
      const next = Date.now() + options.killEveryMs;
      while (!stopping && Date.now() < next) await sleep(Math.min(200, next - Date.now()));
      if (stopping) break;
      kills += 1;
      if (options.natsKillEvery > 0 && kills % options.natsKillEvery === 0) {
        const node = Math.floor(Math.random() * box.nats.urls.length);
        await box.nats.kill(node);
        natsKills += 1;
        await sleep(1000);
        await box.nats.restart(node);
        continue;
      }
      // One replica of a service whose replicas are all up: the other keeps serving.
      const candidates = SERVICES.filter((service) =>
        box.replicasOf(service).every((replica) => replica.ready),
      );
      if (candidates.length === 0) continue;
      const service = candidates[Math.floor(Math.random() * candidates.length)]!;
      const replicas = box.replicasOf(service);
      const replica = replicas[Math.floor(Math.random() * replicas.length)]!;
      await replica.kill();
      restarting.push(restart(replica));
    }
  };

  const started = Date.now();
  const running = [
    ...Array.from({ length: options.workers }, (_, seed) => worker(seed)),
    signIns(),
    chaos(),
  ];
  say('load and kills under way');
  await sleep(options.seconds * 1000);
  stopping = true;
  stoppedAt = Date.now();
  const loadSeconds = (stoppedAt - started) / 1000;
  say(`stopping: ${tally.requests} requests, ${JSON.stringify(box.kills())} kills`);
  const watch = setInterval(
    () => say(`waiting: ${asking} requests unanswered, ${tally.retried} asked again so far`),
    5000,
  );
  await Promise.all(running);
  clearInterval(watch);
  await Promise.all(restarting);
  await box.heal();
  say('every replica and node back');

  await settle(box);
  say('settled');
  const sent = new Map<string, number>();
  for (const message of box.gmail.sent) {
    if (message.subject.startsWith('box ')) {
      sent.set(message.subject, (sent.get(message.subject) ?? 0) + 1);
    }
  }
  const delivered = [...admittedSends.keys()].filter((subject) => sent.has(subject)).length;
  const twice = [...sent.values()].filter((count) => count > 1).length;

  const events = await auditOutcome(box);
  const chains = await verifyChains(box, everyone);
  say(`${chains.verified} of ${chains.tenants} chains verified`);
  const kills = box.kills();
  return {
    seconds: Math.round(loadSeconds),
    requests: tally.requests,
    reads: tally.reads,
    sends: {
      ...tally.sends,
      delivered,
      twice,
      undelivered: tally.sends.admitted - delivered,
    },
    retried: tally.retried,
    refusals: tally.refusals,
    signIns: tally.signIns,
    servedByGateway: [...box.balancer.served.values()],
    agentTasks: tally.agentTasks,
    events: { ...events.counts, perSecond: Math.round(events.counts.stored / loadSeconds) },
    executedTwice: events.executedTwice,
    chains,
    refreshes: { total: box.refreshes.refreshes, overlapping: box.refreshes.overlaps },
    kills: { ...kills, nats: natsKills },
    restarts: box.replicas.reduce((sum, replica) => sum + replica.starts - 1, 0),
    startFailures,
  };
}

/** Waits until every held send is released and every outbox event is in the audit store. */
async function settle(box: BoxPlatform): Promise<void> {
  const deadline = Date.now() + 120_000;
  await sleep(BOX_SEND_WINDOW_S * 1000 + 2000);
  for (;;) {
    const { rows } = await box.admin.query<{ held: string; unpublished: string; missing: string }>(
      `select
         (select count(*) from gateway.actions where status = 'scheduled') as held,
         (select count(*) from gateway.audit_outbox where published_at is null) as unpublished,
         (select count(*) from gateway.audit_outbox o
           where not exists (select 1 from audit.events e where e.event_id = o.id)
             and not exists (select 1 from audit.quarantine q where q.event_id = o.id)) as missing`,
    );
    const row = rows[0]!;
    if (Number(row.held) + Number(row.unpublished) + Number(row.missing) === 0) return;
    if (Date.now() > deadline) return; // what is still missing is counted as lost
    await sleep(500);
  }
}

async function auditOutcome(box: BoxPlatform): Promise<{
  counts: {
    produced: number;
    stored: number;
    lost: number;
    duplicated: number;
    quarantined: number;
  };
  executedTwice: number;
}> {
  const { rows } = await box.admin.query<{
    produced: string;
    stored: string;
    lost: string;
    duplicated: string;
    quarantined: string;
  }>(
    `select
       (select count(*) from gateway.audit_outbox) as produced,
       (select count(*) from audit.events) as stored,
       (select count(*) from gateway.audit_outbox o
         where not exists (select 1 from audit.events e where e.event_id = o.id)) as lost,
       (select count(*) from (select event_id from audit.events group by event_id
         having count(*) > 1) d) as duplicated,
       (select count(*) from audit.quarantine) as quarantined`,
  );
  const executed = await box.admin.query<{ times: string }>(
    `select count(*) as times from audit.events
      where name = 'action.executed'
      group by (envelope::jsonb -> 'event' -> 'data' ->> 'actionId')
      having count(*) > 1`,
  );
  const row = rows[0]!;
  return {
    counts: {
      produced: Number(row.produced),
      stored: Number(row.stored),
      lost: Number(row.lost),
      duplicated: Number(row.duplicated),
      quarantined: Number(row.quarantined),
    },
    executedTwice: executed.rowCount ?? 0,
  };
}

/** Each tenant's owner downloads the audit bundle; the offline verifier checks it. */
async function verifyChains(
  box: BoxPlatform,
  people: readonly Person[],
): Promise<{ tenants: number; verified: number; failures: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'box-bundles-'));
  const failures: string[] = [];
  let verified = 0;
  try {
    for (const person of people) {
      const integrity = await person.call<{ latestCheckpoint: { kid: string } | null }>(
        'GET',
        '/v1/integrity',
      );
      const response = await person.browser.fetch(`${box.origin}/v1/exports/audit-bundle`);
      const bundle = join(dir, `${person.tenantId}.jsonl`);
      await writeFile(bundle, Buffer.from(await response.arrayBuffer()));
      const kid = integrity.body.latestCheckpoint?.kid;
      if (response.status !== 200 || kid === undefined) {
        failures.push(`${person.tenantId}: export ${response.status}, checkpoint ${kid}`);
        continue;
      }
      const outcome = spawnSync(process.execPath, [VERIFIER, bundle, '--trust', kid], {
        encoding: 'utf8',
      });
      if (outcome.status === 0) verified += 1;
      else failures.push(`${person.tenantId}: ${outcome.stdout}${outcome.stderr}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { tenants: people.length, verified, failures };
}
