import { describe, expect, it, vi } from 'vitest';
import {
  ContractError,
  downloadAuditBundle,
  listActivity,
  type Viewer,
} from '@heroagent/contracts';
import { createLogger } from '@heroagent/telemetry';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { PersonalKeys } from '../privacy/personal-keys.js';
import { AuditExports } from './audit-exports.js';
import { fromAudit, type AuditRecordsClient } from './audit-records.client.js';

const viewer: Viewer = {
  tenantId: '00000000-0000-4000-8000-000000000001',
  userId: '00000000-0000-4000-8000-000000000002',
  role: 'auditor',
};

async function read(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

describe('audit exports as downloads', () => {
  const recorder = { record: vi.fn(() => Promise.resolve()) } as unknown as AuditRecorder;
  const logger = createLogger({ service: 'gateway', level: 'silent' });
  // The JSONL bundle is passed on as audit wrote it: nothing is opened.
  const keys = {} as PersonalKeys;

  it('streams every page as one file, each line ended', async () => {
    const exportPage = vi
      .fn()
      .mockResolvedValueOnce({ lines: ['{"header":1}', '{"key":1}'], nextCursor: 'next' })
      .mockResolvedValueOnce({ lines: ['{"event":1}'] });
    const exports = new AuditExports(
      { exportPage } as unknown as AuditRecordsClient,
      recorder,
      keys,
      logger,
    );
    const file = await exports.open(viewer, 'jsonl', downloadAuditBundle);
    expect(file.getHeaders()).toMatchObject({
      type: 'application/x-ndjson',
      disposition: `attachment; filename="heroagent-audit-${viewer.tenantId}.jsonl"`,
    });
    expect(await read(file.getStream())).toBe('{"header":1}\n{"key":1}\n{"event":1}\n');
    expect(exportPage).toHaveBeenLastCalledWith({ viewer, format: 'jsonl', cursor: 'next' });
  });

  it('refuses before sending anything when audit refuses the first page', async () => {
    const exportPage = vi.fn().mockRejectedValue(new ContractError('FORBIDDEN', 'no'));
    const exports = new AuditExports(
      { exportPage } as unknown as AuditRecordsClient,
      recorder,
      keys,
      logger,
    );
    await expect(exports.open(viewer, 'csv', downloadAuditBundle)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it('fails the stream (never ends it) when a later page fails', async () => {
    const exportPage = vi
      .fn()
      .mockResolvedValueOnce({ lines: ['a'], nextCursor: 'next' })
      .mockRejectedValueOnce(new ContractError('UNAVAILABLE', 'gone'));
    const exports = new AuditExports(
      { exportPage } as unknown as AuditRecordsClient,
      recorder,
      keys,
      logger,
    );
    const file = await exports.open(viewer, 'jsonl', downloadAuditBundle);
    await expect(read(file.getStream())).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('is only for download routes', async () => {
    const exports = new AuditExports({} as AuditRecordsClient, recorder, keys, logger);
    await expect(exports.open(viewer, 'jsonl', listActivity)).rejects.toMatchObject({
      code: 'INTERNAL',
    });
  });
});

describe("audit's errors as the person is told them", () => {
  it('names the request field an input issue is about', () => {
    const error = fromAudit(
      new ContractError('INVALID_REQUEST', 'bad cursor', [{ path: 'cursor', message: 'invalid' }]),
      { cursor: 'query.cursor' },
    );
    expect(error.toBody()).toEqual({
      code: 'INVALID_REQUEST',
      message: 'bad cursor',
      issues: [{ path: 'query.cursor', message: 'invalid' }],
    });
  });

  it('treats an issue with a field the person did not send as the gateway’s own fault', () => {
    const error = fromAudit(
      new ContractError('INVALID_REQUEST', 'bad', [{ path: 'viewer.role', message: 'x' }]),
      { cursor: 'query.cursor' },
    );
    expect(error.code).toBe('INTERNAL');
  });

  it('says audit is unreachable or slow, and keeps its coded refusals', () => {
    expect(fromAudit(new ContractError('UNAVAILABLE', 'x could not be reached'), {})).toMatchObject(
      {
        code: 'UNAVAILABLE',
        message: expect.stringContaining('audit service') as unknown,
      },
    );
    expect(
      fromAudit(new ContractError('TIMEOUT', 'audit.records.query did not answer in time'), {}),
    ).toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('audit service') as unknown,
    });
    const own = new ContractError('TIMEOUT', 'the query took too long: narrow it');
    expect(fromAudit(own, {})).toBe(own);
    for (const code of ['FORBIDDEN', 'NOT_FOUND'] as const) {
      expect(fromAudit(new ContractError(code, 'no'), {}).code).toBe(code);
    }
    expect(fromAudit(new Error('boom'), {}).code).toBe('INTERNAL');
  });
});
