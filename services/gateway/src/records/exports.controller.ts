import { Controller, Inject, type StreamableFile } from '@nestjs/common';
import { downloadAuditBundle, downloadAuditCsv } from '@heroagent/contracts';
import { EdgeOf, inTenant, Route, type Edge } from '../http/route.js';
import { AuditExports } from './audit-exports.js';
import { viewerOf } from './audit-records.client.js';

/**
 * Downloads of the tenant's record, for owners, admins and auditors: the verifiable JSONL bundle
 * (`pnpm audit:verify` checks it offline) and CSV for spreadsheets.
 */
@Controller()
export class ExportsController {
  constructor(@Inject(AuditExports) private readonly exports: AuditExports) {}

  @Route(downloadAuditBundle)
  bundle(@EdgeOf() edge: Edge<typeof downloadAuditBundle>): Promise<StreamableFile> {
    return this.exports.open(viewerOf(inTenant(edge)), 'jsonl', downloadAuditBundle);
  }

  @Route(downloadAuditCsv)
  csv(@EdgeOf() edge: Edge<typeof downloadAuditCsv>): Promise<StreamableFile> {
    return this.exports.open(viewerOf(inTenant(edge)), 'csv', downloadAuditCsv);
  }
}
