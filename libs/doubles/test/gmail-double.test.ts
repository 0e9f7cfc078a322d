import { auth, gmail, type gmail_v1 } from '@googleapis/gmail';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GmailDouble } from '../src/index.js';

const scope = (name: string) => `https://www.googleapis.com/auth/${name}`;
const FULL = 'https://mail.google.com/';

let double: GmailDouble;

beforeEach(async () => {
  double = await GmailDouble.start();
  double.allowToken('reader', [scope('gmail.readonly')]);
  double.allowToken('modifier', [scope('gmail.modify')]);
  double.allowToken('sender', [scope('gmail.send')]);
  double.allowToken('composer', [scope('gmail.compose')]);
  double.allowToken('everything', [FULL]);
});

afterEach(async () => {
  await double.close();
});

/** The official client, authorised the way production code does it: an OAuth2Client. */
function client(token?: string): gmail_v1.Gmail {
  if (token === undefined) return gmail({ version: 'v1', rootUrl: double.rootUrl });
  const oauth = new auth.OAuth2();
  oauth.setCredentials({ access_token: token });
  return gmail({ version: 'v1', rootUrl: double.rootUrl, auth: oauth });
}

function rawMessage(headers: Record<string, string>, body: string): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`).toString('base64url');
}

function seedInbox(): Record<'invoice' | 'lunch' | 'report', string> {
  return {
    invoice: double.addMessage({
      from: 'Alice <alice@example.org>',
      to: 'me@example.com',
      subject: 'Invoice 42 for March',
      body: 'Please pay the invoice by Friday.',
      date: new Date('2025-03-01T10:00:00Z'),
    }),
    lunch: double.addMessage({
      from: 'bob@example.org',
      to: 'me@example.com',
      subject: 'Lunch?',
      body: "Shall we try the new ramen place? It's close.",
      labelIds: ['INBOX'],
      date: new Date('2025-03-02T12:00:00Z'),
    }),
    report: double.addMessage({
      from: 'alice@example.org',
      to: 'team@example.com',
      cc: 'me@example.com',
      subject: 'Weekly report',
      body: 'Numbers are up.',
      labelIds: ['INBOX', 'UNREAD', 'STARRED'],
      date: new Date('2025-03-03T09:00:00Z'),
    }),
  };
}

describe('authentication and scopes', () => {
  it('answers 401 UNAUTHENTICATED without a token or with an unknown one', async () => {
    await expect(client().users.getProfile({ userId: 'me' })).rejects.toMatchObject({
      status: 401,
      response: {
        data: {
          error: {
            code: 401,
            status: 'UNAUTHENTICATED',
            errors: [{ reason: 'required', location: 'Authorization' }],
          },
        },
      },
    });
    const rejected: unknown = await client('nobody')
      .users.getProfile({ userId: 'me' })
      .catch((error: unknown) => error);
    expect(rejected).toMatchObject({
      status: 401,
      response: {
        data: { error: { status: 'UNAUTHENTICATED', errors: [{ reason: 'authError' }] } },
      },
    });
    const { headers } = (rejected as { response: { headers: Headers } }).response;
    expect(headers.get('www-authenticate')).toBe(
      'Bearer realm="https://accounts.google.com/", error="invalid_token"',
    );
  });

  it('answers 403 PERMISSION_DENIED when the token lacks a scope the method accepts', async () => {
    const insufficient = {
      status: 403,
      response: {
        data: {
          error: {
            code: 403,
            message: 'Request had insufficient authentication scopes.',
            status: 'PERMISSION_DENIED',
            errors: [{ reason: 'insufficientPermissions' }],
          },
        },
      },
    };
    await expect(client('sender').users.messages.list({ userId: 'me' })).rejects.toMatchObject(
      insufficient,
    );
    const raw = rawMessage({ To: 'x@example.org', Subject: 'hi' }, 'hello');
    await expect(
      client('reader').users.messages.send({ userId: 'me', requestBody: { raw } }),
    ).rejects.toMatchObject(insufficient);
    await expect(
      client('sender').users.drafts.create({ userId: 'me', requestBody: { message: { raw } } }),
    ).rejects.toMatchObject(insufficient);
    await expect(
      client('composer').users.messages.modify({ userId: 'me', id: 'x', requestBody: {} }),
    ).rejects.toMatchObject(insufficient);
    expect(double.sent).toEqual([]);
  });

  it('lets each scope do what Google documents for it', async () => {
    const id = double.addMessage({
      from: 'a@x.org',
      to: 'me@example.com',
      subject: 's',
      body: 'b',
    });
    const raw = rawMessage({ To: 'x@example.org', Subject: 'hi' }, 'hello');
    await client('reader').users.messages.get({ userId: 'me', id });
    await client('sender').users.messages.send({ userId: 'me', requestBody: { raw } });
    await client('composer').users.messages.send({ userId: 'me', requestBody: { raw } });
    await client('composer').users.drafts.create({
      userId: 'me',
      requestBody: { message: { raw } },
    });
    await client('modifier').users.messages.trash({ userId: 'me', id });
    await client('everything').users.messages.untrash({ userId: 'me', id });
    expect(double.sent).toHaveLength(2);
  });

  it('limits gmail.metadata to headers: no q, no full format', async () => {
    double.allowToken('metadata', [scope('gmail.metadata')]);
    const id = double.addMessage({
      from: 'a@x.org',
      to: 'me@example.com',
      subject: 's',
      body: 'b',
    });
    const api = client('metadata');
    const listed = await api.users.messages.list({ userId: 'me' });
    expect(listed.data.messages).toHaveLength(1);
    await expect(api.users.messages.list({ userId: 'me', q: 'from:a' })).rejects.toMatchObject({
      status: 403,
    });
    await expect(api.users.messages.get({ userId: 'me', id })).rejects.toMatchObject({
      status: 403,
    });
    const metadata = await api.users.messages.get({ userId: 'me', id, format: 'metadata' });
    expect(metadata.data.payload?.body).toBeUndefined();
  });

  it('stops accepting a revoked token and takes one from global headers too', async () => {
    await client('reader').users.getProfile({ userId: 'me' });
    double.revokeToken('reader');
    await expect(client('reader').users.getProfile({ userId: 'me' })).rejects.toMatchObject({
      status: 401,
    });
    const viaHeaders = gmail({
      version: 'v1',
      rootUrl: double.rootUrl,
      headers: { Authorization: 'Bearer everything' },
    });
    const profile = await viaHeaders.users.getProfile({ userId: 'me' });
    expect(profile.data.emailAddress).toBe('me@example.com');
  });
});

describe('profile and mailboxes', () => {
  it('keeps one mailbox per account and refuses another user id', async () => {
    double.allowToken('other', [scope('gmail.readonly')], 'other@example.com');
    double.addMessage({ from: 'a@x.org', to: 'other@example.com', subject: 's', body: 'b' });
    double.addMessage({
      from: 'a@x.org',
      to: 'other@example.com',
      subject: 's',
      body: 'b',
      account: 'other@example.com',
    });
    const profile = await client('other').users.getProfile({ userId: 'me' });
    expect(profile.data).toMatchObject({ emailAddress: 'other@example.com', messagesTotal: 1 });
    const byAddress = await client('other').users.getProfile({ userId: 'other@example.com' });
    expect(byAddress.data.emailAddress).toBe('other@example.com');
    await expect(
      client('reader').users.messages.list({ userId: 'other@example.com' }),
    ).rejects.toMatchObject({
      status: 403,
      response: { data: { error: { message: 'Delegation denied for me@example.com' } } },
    });
  });
});

describe('users.messages.list', () => {
  it('filters with Gmail search operators and label ids', async () => {
    const ids = seedInbox();
    const api = client('reader');
    const search = async (params: gmail_v1.Params$Resource$Users$Messages$List) =>
      ((await api.users.messages.list({ userId: 'me', ...params })).data.messages ?? []).map(
        (m) => m.id,
      );
    expect(await search({ q: 'from:alice' })).toEqual([ids.report, ids.invoice]);
    expect(await search({ q: 'to:me@example.com' })).toEqual([ids.report, ids.lunch, ids.invoice]);
    expect(await search({ q: 'subject:(invoice march)' })).toEqual([ids.invoice]);
    expect(await search({ q: 'ramen' })).toEqual([ids.lunch]);
    expect(await search({ q: '"pay the invoice"' })).toEqual([ids.invoice]);
    expect(await search({ q: 'is:unread' })).toEqual([ids.report, ids.invoice]);
    expect(await search({ q: 'is:unread -from:alice' })).toEqual([]);
    expect(await search({ q: 'label:starred' })).toEqual([ids.report]);
    expect(await search({ q: 'after:2025/03/02 before:2025/03/03' })).toEqual([ids.lunch]);
    expect(await search({ labelIds: ['INBOX', 'UNREAD'] })).toEqual([ids.report, ids.invoice]);
  });

  it('pages newest first with nextPageToken and omits messages when none match', async () => {
    const ids = seedInbox();
    const api = client('reader');
    const first = await api.users.messages.list({ userId: 'me', maxResults: 2 });
    expect(first.data.messages?.map((m) => m.id)).toEqual([ids.report, ids.lunch]);
    expect(first.data.resultSizeEstimate).toBe(3);
    const second = await api.users.messages.list({
      userId: 'me',
      maxResults: 2,
      pageToken: first.data.nextPageToken ?? '',
    });
    expect(second.data.messages).toEqual([{ id: ids.invoice, threadId: ids.invoice }]);
    expect(second.data.nextPageToken).toBeUndefined();
    const none = await api.users.messages.list({ userId: 'me', q: 'from:nobody' });
    expect(none.data).toEqual({ resultSizeEstimate: 0 });
    await expect(
      api.users.messages.list({ userId: 'me', pageToken: 'bogus' }),
    ).rejects.toMatchObject({ status: 400 });
  });
});

describe('users.messages.get', () => {
  it('answers full, metadata, minimal and raw formats', async () => {
    const { lunch } = seedInbox();
    const api = client('reader');
    const full = (await api.users.messages.get({ userId: 'me', id: lunch })).data;
    expect(full).toMatchObject({
      id: lunch,
      threadId: lunch,
      labelIds: ['INBOX'],
      snippet: 'Shall we try the new ramen place? It&#39;s close.',
      internalDate: String(Date.parse('2025-03-02T12:00:00Z')),
      payload: { mimeType: 'text/plain' },
    });
    const headers = Object.fromEntries(
      (full.payload?.headers ?? []).map((h) => [h.name ?? '', h.value ?? '']),
    );
    expect(headers).toMatchObject({
      From: 'bob@example.org',
      To: 'me@example.com',
      Subject: 'Lunch?',
      Date: 'Sun, 02 Mar 2025 12:00:00 +0000',
    });
    expect(headers['Message-ID']).toMatch(/^<.+@mail\.gmail\.com>$/);
    const data = Buffer.from(full.payload?.body?.data ?? '', 'base64url').toString('utf8');
    expect(data).toBe("Shall we try the new ramen place? It's close.");
    expect(full.payload?.body?.size).toBe(Buffer.byteLength(data));
    expect(full.sizeEstimate).toBeGreaterThan(data.length);

    const metadata = await api.users.messages.get({
      userId: 'me',
      id: lunch,
      format: 'metadata',
      metadataHeaders: ['Subject', 'From'],
    });
    expect(metadata.data.payload?.headers?.map((h) => h.name)).toEqual(['From', 'Subject']);
    expect(metadata.data.payload?.body).toBeUndefined();

    const minimal = await api.users.messages.get({ userId: 'me', id: lunch, format: 'minimal' });
    expect(minimal.data.payload).toBeUndefined();
    expect(minimal.data.labelIds).toEqual(['INBOX']);

    const raw = await api.users.messages.get({ userId: 'me', id: lunch, format: 'raw' });
    const text = Buffer.from(raw.data.raw ?? '', 'base64url').toString('utf8');
    expect(text).toContain('Subject: Lunch?\r\n');
    expect(text.endsWith("\r\n\r\nShall we try the new ramen place? It's close.")).toBe(true);
  });

  it('answers 404 in Google error shape for an unknown id', async () => {
    await expect(
      client('reader').users.messages.get({ userId: 'me', id: '18c0000000000bad' }),
    ).rejects.toMatchObject({
      status: 404,
      message: 'Requested entity was not found.',
      response: {
        data: {
          error: {
            code: 404,
            status: 'NOT_FOUND',
            errors: [{ reason: 'notFound', domain: 'global' }],
          },
        },
      },
    });
  });
});

describe('users.messages.send', () => {
  it('parses the raw message, stamps it, labels it SENT and records it', async () => {
    const raw = rawMessage(
      {
        From: 'Someone Else <else@example.org>',
        To: 'Carol <carol@example.org>',
        Cc: 'dave@example.org',
        Subject: '=?UTF-8?B?' + Buffer.from('Grüße').toString('base64') + '?=',
        'Content-Type': 'text/plain; charset="UTF-8"',
      },
      'Hello Carol,\r\nsee you soon.',
    );
    const sent = await client('sender').users.messages.send({ userId: 'me', requestBody: { raw } });
    expect(sent.data).toMatchObject({ labelIds: ['SENT'] });
    expect(sent.data.threadId).toBe(sent.data.id);
    expect(double.sent).toEqual([
      expect.objectContaining({
        id: sent.data.id,
        account: 'me@example.com',
        from: 'me@example.com',
        to: 'Carol <carol@example.org>',
        cc: 'dave@example.org',
        bcc: undefined,
        subject: 'Grüße',
        body: 'Hello Carol,\nsee you soon.',
      }),
    ]);
    const stored = double.sent[0]!;
    expect(stored.headers.map((h) => h.name)).toEqual(
      expect.arrayContaining(['Date', 'Message-ID', 'From']),
    );
    const inSent = await client('reader').users.messages.list({ userId: 'me', q: 'in:sent' });
    expect(inSent.data.messages?.map((m) => m.id)).toEqual([sent.data.id]);
  });

  it('seeds messages into a named thread', async () => {
    const seed = { from: 'a@x.org', to: 'me@example.com', subject: 'Plan', threadId: 'thread-1' };
    const first = double.addMessage({ ...seed, body: 'one' });
    const second = double.addMessage({ ...seed, body: 'two' });
    const listed = await client('reader').users.messages.list({ userId: 'me' });
    expect(listed.data.messages).toEqual([
      { id: second, threadId: 'thread-1' },
      { id: first, threadId: 'thread-1' },
    ]);
  });

  it('keeps a reply in its thread and reads multipart bodies', async () => {
    const { lunch } = seedInbox();
    const boundary = 'b0undary';
    const raw = rawMessage(
      {
        To: 'bob@example.org',
        Subject: 'Re: Lunch?',
        'In-Reply-To': '<x@mail.gmail.com>',
        'Content-Type': `multipart/alternative; boundary="${boundary}"`,
      },
      [
        `--${boundary}`,
        'Content-Type: text/plain; charset=UTF-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'Yes, at noon =E2=80=94 see you.',
        `--${boundary}`,
        'Content-Type: text/html; charset=UTF-8',
        '',
        '<p>Yes, at noon</p>',
        `--${boundary}--`,
      ].join('\r\n'),
    );
    const sent = await client('modifier').users.messages.send({
      userId: 'me',
      requestBody: { raw, threadId: lunch },
    });
    expect(sent.data.threadId).toBe(lunch);
    expect(double.sent[0]?.body).toBe('Yes, at noon — see you.');
    const full = await client('reader').users.messages.get({ userId: 'me', id: sent.data.id! });
    expect(full.data.payload?.mimeType).toBe('multipart/alternative');
    expect(full.data.payload?.parts?.map((p) => [p.partId, p.mimeType])).toEqual([
      ['0', 'text/plain'],
      ['1', 'text/html'],
    ]);
  });

  it('refuses a message without recipients or without raw, storing nothing', async () => {
    const api = client('sender');
    await expect(
      api.users.messages.send({
        userId: 'me',
        requestBody: { raw: rawMessage({ Subject: 'to nobody' }, 'x') },
      }),
    ).rejects.toMatchObject({ status: 400, message: 'Recipient address required' });
    await expect(api.users.messages.send({ userId: 'me', requestBody: {} })).rejects.toMatchObject({
      status: 400,
      response: { data: { error: { status: 'INVALID_ARGUMENT' } } },
    });
    expect(double.sent).toEqual([]);
    expect(double.getMessage('18c0000000000001')).toBeUndefined();
  });
});

describe('labels, modify, trash and untrash', () => {
  it('archives, marks read and labels through modify', async () => {
    const { invoice } = seedInbox();
    const api = client('modifier');
    const labelId = (
      await api.users.labels.create({ userId: 'me', requestBody: { name: 'Finance' } })
    ).data.id!;
    const modified = await api.users.messages.modify({
      userId: 'me',
      id: invoice,
      requestBody: { addLabelIds: [labelId], removeLabelIds: ['INBOX', 'UNREAD'] },
    });
    expect(modified.data).toEqual({ id: invoice, threadId: invoice, labelIds: [labelId] });
    const inFinance = await api.users.messages.list({ userId: 'me', q: 'label:finance' });
    expect(inFinance.data.messages?.map((m) => m.id)).toEqual([invoice]);
    const inbox = await api.users.messages.list({ userId: 'me', labelIds: ['INBOX'] });
    expect(inbox.data.messages?.map((m) => m.id)).not.toContain(invoice);
    await expect(
      api.users.messages.modify({
        userId: 'me',
        id: invoice,
        requestBody: { addLabelIds: ['Label_99'] },
      }),
    ).rejects.toMatchObject({ status: 400, message: 'Invalid label: Label_99' });
    expect(double.getMessage(invoice)?.labelIds).toEqual([labelId]);
  });

  it('trashes out of listings and untrashes back to the inbox', async () => {
    const { report } = seedInbox();
    const api = client('modifier');
    const trashed = await api.users.messages.trash({ userId: 'me', id: report });
    expect(trashed.data.labelIds).toEqual(['UNREAD', 'STARRED', 'TRASH']);
    const listed = await api.users.messages.list({ userId: 'me', q: 'from:alice' });
    expect(listed.data.messages?.map((m) => m.id)).not.toContain(report);
    const inTrash = await api.users.messages.list({ userId: 'me', q: 'in:trash' });
    expect(inTrash.data.messages?.map((m) => m.id)).toEqual([report]);
    const untrashed = await api.users.messages.untrash({ userId: 'me', id: report });
    expect(untrashed.data.labelIds).toEqual(['UNREAD', 'STARRED', 'INBOX']);
    await expect(api.users.messages.trash({ userId: 'me', id: 'missing' })).rejects.toMatchObject({
      status: 404,
    });
  });

  it('lists system and user labels, counts them and refuses duplicates', async () => {
    seedInbox();
    const api = client('modifier');
    await api.users.labels.create({ userId: 'me', requestBody: { name: 'Travel' } });
    const labels = (await api.users.labels.list({ userId: 'me' })).data.labels ?? [];
    expect(labels.map((l) => l.id)).toEqual([
      'INBOX',
      'SENT',
      'TRASH',
      'UNREAD',
      'STARRED',
      'IMPORTANT',
      'SPAM',
      'DRAFT',
      'Label_1',
    ]);
    expect(labels.at(-1)).toMatchObject({ name: 'Travel', type: 'user' });
    const inbox = await api.users.labels.get({ userId: 'me', id: 'INBOX' });
    expect(inbox.data).toMatchObject({ type: 'system', messagesTotal: 3, messagesUnread: 2 });
    await expect(
      api.users.labels.create({ userId: 'me', requestBody: { name: 'travel' } }),
    ).rejects.toMatchObject({ status: 409 });
  });
});

describe('users.drafts', () => {
  it('creates, reads, updates, sends and deletes drafts', async () => {
    const api = client('composer');
    const first = rawMessage({ To: 'erin@example.org', Subject: 'Draft one' }, 'first');
    const created = await api.users.drafts.create({
      userId: 'me',
      requestBody: { message: { raw: first } },
    });
    const draftId = created.data.id!;
    expect(created.data.message?.labelIds).toEqual(['DRAFT']);
    const got = await api.users.drafts.get({ userId: 'me', id: draftId });
    expect(got.data.message?.payload?.headers).toContainEqual({
      name: 'Subject',
      value: 'Draft one',
    });
    const listed = await api.users.drafts.list({ userId: 'me' });
    expect(listed.data.drafts?.map((d) => d.id)).toEqual([draftId]);

    const second = rawMessage({ To: 'erin@example.org', Subject: 'Draft two' }, 'second');
    const updated = await api.users.drafts.update({
      userId: 'me',
      id: draftId,
      requestBody: { message: { raw: second } },
    });
    expect(updated.data.id).toBe(draftId);
    expect(double.sent).toEqual([]);

    const sent = await api.users.drafts.send({ userId: 'me', requestBody: { id: draftId } });
    expect(sent.data.labelIds).toEqual(['SENT']);
    expect(double.sent).toEqual([
      expect.objectContaining({ subject: 'Draft two', body: 'second', from: 'me@example.com' }),
    ]);
    await expect(api.users.drafts.get({ userId: 'me', id: draftId })).rejects.toMatchObject({
      status: 404,
    });

    const doomed = await api.users.drafts.create({
      userId: 'me',
      requestBody: { message: { raw: first } },
    });
    const deleted = await api.users.drafts.delete({ userId: 'me', id: doomed.data.id! });
    expect(deleted.status).toBe(204);
    expect(double.getMessage(doomed.data.message!.id!)).toBeUndefined();
    await expect(
      api.users.drafts.delete({ userId: 'me', id: doomed.data.id! }),
    ).rejects.toMatchObject({ status: 404 });
    const readerView = await client('reader').users.drafts.list({ userId: 'me' });
    expect(readerView.data).toEqual({ resultSizeEstimate: 0 });
  });
});

describe('failures, latency and recording', () => {
  it('fails the next call in Google error shape and recovers afterwards', async () => {
    const api = client('reader');
    double.failNext(503);
    await expect(api.users.getProfile({ userId: 'me' }, { retry: false })).rejects.toMatchObject({
      status: 503,
      response: {
        data: {
          error: { code: 503, status: 'UNAVAILABLE', errors: [{ reason: 'backendError' }] },
        },
      },
    });
    double.failNext(429);
    await expect(api.users.getProfile({ userId: 'me' }, { retry: false })).rejects.toMatchObject({
      status: 429,
      response: {
        data: {
          error: { status: 'RESOURCE_EXHAUSTED', errors: [{ reason: 'rateLimitExceeded' }] },
        },
      },
    });
    await expect(api.users.getProfile({ userId: 'me' })).resolves.toMatchObject({ status: 200 });
  });

  it('lets the client retry a GET through an injected 500 but not a POST', async () => {
    const api = client('everything');
    double.failNext(500);
    const profile = await api.users.getProfile({ userId: 'me' });
    expect(profile.data.emailAddress).toBe('me@example.com');
    expect(double.requests.map((r) => r.status)).toEqual([500, 200]);
    double.failNext(500);
    const raw = rawMessage({ To: 'x@example.org', Subject: 'once' }, 'x');
    await expect(
      api.users.messages.send({ userId: 'me', requestBody: { raw } }),
    ).rejects.toMatchObject({ status: 500 });
    expect(double.sent).toEqual([]);
  });

  it('answers only after latencyMs', async () => {
    double.latencyMs = 1_000;
    await expect(
      client('reader').users.getProfile({ userId: 'me' }, { timeout: 50, retry: false }),
    ).rejects.toThrow();
  });

  it('holds a request unanswered until it is released, others passing by', async () => {
    const api = client('everything');
    const held = double.holdNext('gmail.users.messages.send');
    const raw = rawMessage({ To: 'x@example.org', Subject: 'held' }, 'x');
    let answered = false;
    const sending = api.users.messages.send({ userId: 'me', requestBody: { raw } }).then(() => {
      answered = true;
    });
    await held.reached;
    // Another operation is not held, and the held one is neither answered nor recorded yet.
    await api.users.getProfile({ userId: 'me' });
    expect(answered).toBe(false);
    expect(double.callCount('gmail.users.messages.send')).toBe(0);
    held.release();
    await sending;
    expect(double.sent.map((message) => message.subject)).toEqual(['held']);
    expect(double.callCount('gmail.users.messages.send')).toBe(1);
  });

  it('records method, path, query, body, token and operation of every request', async () => {
    const api = client('everything');
    await api.users.messages.list({ userId: 'me', q: 'is:unread', maxResults: 5 });
    const raw = rawMessage({ To: 'x@example.org', Subject: 'hi' }, 'x');
    await api.users.messages.send({ userId: 'me', requestBody: { raw } });
    const [list, send] = double.requests;
    expect(list).toMatchObject({
      method: 'GET',
      path: '/gmail/v1/users/me/messages',
      token: 'everything',
      operation: 'gmail.users.messages.list',
      status: 200,
    });
    expect(list?.query.get('q')).toBe('is:unread');
    expect(list?.query.get('maxResults')).toBe('5');
    expect(send).toMatchObject({
      method: 'POST',
      path: '/gmail/v1/users/me/messages/send',
      body: { raw },
      operation: 'gmail.users.messages.send',
    });
    expect(double.callCount('gmail.users.messages.send')).toBe(1);
    expect(double.callCount()).toBe(2);
  });
});
