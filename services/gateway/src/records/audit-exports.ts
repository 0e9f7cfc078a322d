import { Readable } from 'node:stream';
import { StreamableFile } from '@nestjs/common';
import {
  ContractError,
  type exportAuditBundle,
  type HttpRoute,
  type RpcResponse,
  type Viewer,
} from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditRecordsClient } from './audit-records.client.js';

type Format = 'jsonl' | 'csv';
type Page = RpcResponse<typeof exportAuditBundle>;

/** What an export leaves in the record: who took the tenant's record away, and in which form. */
export const RECORD_EXPORTED = 'audit.record.exported';

const EXTENSIONS: Record<Format, string> = { jsonl: 'jsonl', csv: 'csv' };
// JSONL lines end in LF; CSV records in CRLF (RFC 4180).
const LINE_ENDINGS: Record<Format, string> = { jsonl: '\n', csv: '\r\n' };

/**
 * The tenant's record as one downloaded file, streamed page by page as audit exports it. The
 * first page is asked for before anything is sent, so a refusal is an ordinary coded error; a
 * page that fails later aborts the download (the route framework destroys the connection), so a
 * cut-off file never looks complete, and the JSONL bundle would fail verification anyway.
 */
export class AuditExports {
  constructor(
    private readonly records: AuditRecordsClient,
    private readonly audit: AuditRecorder,
    private readonly logger: Logger,
  ) {}

  async open(viewer: Viewer, format: Format, route: HttpRoute): Promise<StreamableFile> {
    if (route.outcome.kind !== 'download') {
      throw new ContractError('INTERNAL', `${route.id} is not a download route`);
    }
    const first = await this.records.exportPage({ viewer, format });
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
    let page = first;
    for (;;) {
      if (page.lines.length > 0) yield page.lines.map((line) => line + ending).join('');
      if (page.nextCursor === undefined) return;
      page = await this.records.exportPage({ viewer, format, cursor: page.nextCursor });
    }
  }
}
