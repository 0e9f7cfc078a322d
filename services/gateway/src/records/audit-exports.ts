import { Readable } from 'node:stream';
import { StreamableFile } from '@nestjs/common';
import {
  auditRecordSchema,
  ContractError,
  type exportAuditBundle,
  type HttpRoute,
  type RpcResponse,
  type Viewer,
} from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { openPersonalFields } from '../privacy/personal-fields.js';
import type { PersonalKeys } from '../privacy/personal-keys.js';
import type { AuditRecordsClient } from './audit-records.client.js';
import { csvHeader, csvRow } from './csv.js';

type Format = 'jsonl' | 'csv';
type Page = RpcResponse<typeof exportAuditBundle>;

/** What an export leaves in the record: who took the tenant's record away, and in which form. */
export const RECORD_EXPORTED = 'audit.record.exported';

const EXTENSIONS: Record<Format, string> = { jsonl: 'jsonl', csv: 'csv' };
// JSONL lines end in LF; CSV records in CRLF (RFC 4180).
const LINE_ENDINGS: Record<Format, string> = { jsonl: '\n', csv: '\r\n' };

/** What audit is asked for, for each download format. */
const AUDIT_FORMATS = { jsonl: 'jsonl', csv: 'records' } as const;

/**
 * The tenant's record as one downloaded file, streamed page by page as audit exports it: the
 * verifiable bundle as audit writes it (personal fields sealed, as they were signed), or a CSV
 * the gateway renders from the records, personal fields opened for the viewer. The
 * first page is asked for before anything is sent, so a refusal is an ordinary coded error; a
 * page that fails later aborts the download (the route framework destroys the connection), so a
 * cut-off file never looks complete, and the JSONL bundle would fail verification anyway.
 */
export class AuditExports {
  constructor(
    private readonly records: AuditRecordsClient,
    private readonly audit: AuditRecorder,
    private readonly keys: PersonalKeys,
    private readonly logger: Logger,
  ) {}

  async open(viewer: Viewer, format: Format, route: HttpRoute): Promise<StreamableFile> {
    if (route.outcome.kind !== 'download') {
      throw new ContractError('INTERNAL', `${route.id} is not a download route`);
    }
    const first = await this.records.exportPage({ viewer, format: AUDIT_FORMATS[format] });
    await this.audit.record({
      tenantId: viewer.tenantId,
      name: RECORD_EXPORTED,
      actor: { type: 'user', id: viewer.userId },
      userId: viewer.userId,
      outcome: 'success',
      data: { format },
    });
    const filename = `heroagent-audit-${viewer.tenantId}.${EXTENSIONS[format]}`;
    return new StreamableFile(Readable.from(this.pages(viewer, format, first)), {
      type: route.outcome.contentType,
      disposition: `attachment; filename="${filename}"`,
    }).setErrorLogger((error) => {
      this.logger.error(
        { err: error, tenantId: viewer.tenantId, format },
        'the audit export failed after it started: the download was aborted',
      );
    });
  }

  private async *pages(viewer: Viewer, format: Format, first: Page): AsyncGenerator<string> {
    const ending = LINE_ENDINGS[format];
    if (format === 'csv') yield csvHeader() + ending;
    let page = first;
    for (;;) {
      const lines = format === 'csv' ? await this.csvLines(viewer, page.lines) : page.lines;
      if (lines.length > 0) yield lines.map((line) => line + ending).join('');
      if (page.nextCursor === undefined) return;
      page = await this.records.exportPage({
        viewer,
        format: AUDIT_FORMATS[format],
        cursor: page.nextCursor,
      });
    }
  }

  private async csvLines(viewer: Viewer, lines: readonly string[]): Promise<string[]> {
    const records = lines.map((line) => auditRecordSchema.parse(JSON.parse(line)));
    const opened = await openPersonalFields(
      this.keys,
      records.map((record) => record.envelope.event),
      viewer.tenantId,
    );
    return records.map((record) => csvRow(record, opened.get(record.envelope.event.id)));
  }
}
