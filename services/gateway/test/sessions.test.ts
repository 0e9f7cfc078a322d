import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSettings, type Kysely } from '@heroagent/db';
import { createTestDatabase, type TestDatabase } from '@heroagent/db/testing';
import { openJobDatabase, openServiceDatabase } from '@heroagent/service';
import { createLogger } from '@heroagent/telemetry';
import { migrations } from '../migrations/index.js';
import { GATEWAY_JOBS } from '../src/config.js';
import { PeopleRepository } from '../src/people/people.repository.js';
import { csrfTokenMatches, csrfTokenOf, hashSecret } from '../src/sessions/secrets.js';
import { SessionsRepository } from '../src/sessions/sessions.repository.js';
import { SessionsService } from '../src/sessions/sessions.service.js';
import type { GatewayDatabase } from '../src/store-tables.js';

const MINUTE = 60_000;

describe('sessions (real Postgres, a clock the test moves)', () => {
  let database: TestDatabase;
  let db: Kysely<GatewayDatabase>;
  let sweeper: Kysely<GatewayDatabase>;
  let people: PeopleRepository;
  let now = new Date('2026-11-25T10:00:00Z');
  let sessions: SessionsService;
  const origin = { userAgent: 'test', ip: '10.0.0.1' };

  async function newPerson(): Promise<string> {
    const userId = randomUUID();
    await people.createPerson(
      userId,
      {
        provider: 'google',
        issuer: 'https://accounts.google.com',
        subject: randomUUID(),
        email: `${userId}@example.com`,
        emailVerified: true,
        displayName: null,
      },
      now,
      { id: randomUUID(), name: 'T' },
    );
    return userId;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    const service = await database.provisionService('gateway', { jobs: GATEWAY_JOBS });
    await service.migrate(migrations);
    db = await openServiceDatabase({
      service: 'gateway',
      schema: 'gateway',
      database: { DATABASE_URL: service.runtimeUrl },
      migrations,
      logger: createLogger({ service: 'gateway', level: 'silent' }),
    });
    sweeper = await openJobDatabase({
      service: 'gateway',
      job: 'sweeper',
      schema: 'gateway',
      url: service.jobUrls.sweeper!,
      logger: createLogger({ service: 'gateway', level: 'silent' }),
    });
    people = new PeopleRepository(db);
    sessions = new SessionsService(
      new SessionsRepository(db, sweeper),
      { idleTimeoutMs: 30 * MINUTE, absoluteTimeoutMs: 12 * 60 * MINUTE },
      () => now,
    );
  });
  afterAll(async () => {
    await sweeper?.destroy();
    await db?.destroy();
    await database?.drop();
  });

  it('ends a session left idle longer than the idle timeout', async () => {
    const userId = await newPerson();
    const issued = await sessions.start(userId, null, origin, undefined);
    now = new Date(now.getTime() + 29 * MINUTE);
    expect(await sessions.resolve(issued.secret)).toBeDefined();
    now = new Date(now.getTime() + 29 * MINUTE);
    // Used at minute 29, so alive until minute 59.
    expect(await sessions.resolve(issued.secret)).toBeDefined();
    now = new Date(now.getTime() + 31 * MINUTE);
    expect(await sessions.resolve(issued.secret)).toBeUndefined();
  });

  it('ends a session at the absolute timeout however busy it is', async () => {
    const userId = await newPerson();
    const issued = await sessions.start(userId, null, origin, undefined);
    for (let hour = 0; hour < 12; hour += 1) {
      now = new Date(now.getTime() + 25 * MINUTE);
      const live = await sessions.resolve(issued.secret);
      if (live === undefined) break;
      expect(live.idleExpiresAt.getTime()).toBeLessThanOrEqual(issued.expiresAt.getTime());
    }
    now = new Date(issued.expiresAt.getTime() + 1);
    expect(await sessions.resolve(issued.secret)).toBeUndefined();
  });

  it('stores only a hash of the secret, and rotates at every sign-in', async () => {
    const userId = await newPerson();
    const first = await sessions.start(userId, null, origin, undefined);
    const rows = await sessions.list(userId);
    expect(JSON.stringify(rows)).not.toContain(first.secret);
    const stored = await withSettings(db, { 'app.user_id': userId }, (trx) =>
      trx
        .selectFrom('sessions')
        .select('token_hash')
        .where('id', '=', first.id)
        .executeTakeFirstOrThrow(),
    );
    expect(stored.token_hash.equals(hashSecret(first.secret))).toBe(true);
    const second = await sessions.start(userId, null, origin, first.secret);
    expect(second.secret).not.toBe(first.secret);
    expect(await sessions.resolve(first.secret)).toBeUndefined();
    expect(await sessions.resolve(second.secret)).toBeDefined();
  });

  it('ignores malformed and unknown secrets without a lookup error', async () => {
    for (const secret of [
      undefined,
      '',
      'short',
      'x'.repeat(43) + '!',
      "'; drop table sessions; --",
    ]) {
      expect(await sessions.resolve(secret)).toBeUndefined();
    }
  });

  it('derives a CSRF token that only matches its own session', async () => {
    const userId = await newPerson();
    const a = await sessions.start(userId, null, origin, undefined);
    const b = await sessions.start(userId, null, origin, undefined);
    expect(csrfTokenMatches(a.secret, csrfTokenOf(a.secret))).toBe(true);
    expect(csrfTokenMatches(a.secret, csrfTokenOf(b.secret))).toBe(false);
    expect(csrfTokenMatches(a.secret, undefined)).toBe(false);
    expect(csrfTokenMatches(a.secret, '')).toBe(false);
  });

  it('purges expired sessions', async () => {
    const userId = await newPerson();
    await sessions.start(userId, null, origin, undefined);
    now = new Date(now.getTime() + 13 * 60 * MINUTE);
    expect(await sessions.purgeExpired()).toBeGreaterThan(0);
    expect(await sessions.list(userId)).toEqual([]);
  });
});
