import { z } from 'zod';
import {
  ContractError,
  type AuditRecord,
  type RpcRequest,
  type queryAuditRecords,
  type SignedAuditEvent,
} from '@heroagent/contracts';
import type { RecordsRepository, StoredEvent } from '../../store/records.repository.js';
import { seesWholeTenant } from '../access.js';
import { decodeCursor, encodeCursor } from '../cursor.js';

/** A stored event as the query and export answer it. */
export function toRecord(event: StoredEvent): AuditRecord {
  return {
    seq: event.seq,
    prevHash: event.prevHash.toString('hex'),
    hash: event.hash.toString('hex'),
    receivedAt: event.receivedAt.toISOString(),
    envelope: JSON.parse(event.envelope) as SignedAuditEvent,
  };
}

const cursorSchema = z.strictObject({ b: z.number().int().positive() });

/** `audit.records.query`: a filtered page, newest first; a member sees only their own events. */
export class QueryRecords {
  constructor(private readonly records: RecordsRepository) {}

  async execute(request: RpcRequest<typeof queryAuditRecords>) {
    const { viewer, limit } = request;
    const filter = { ...request.filter };
    if (!seesWholeTenant(viewer)) {
      if (filter.userId !== undefined && filter.userId !== viewer.userId) {
        throw new ContractError('FORBIDDEN', 'a member may read only their own events');
      }
      filter.userId = viewer.userId;
    }
    const before =
      request.cursor === undefined ? undefined : decodeCursor(request.cursor, cursorSchema).b;
    const rows = await this.records.query(viewer.tenantId, filter, before, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      records: page.map(toRecord),
      ...(rows.length > limit && last !== undefined
        ? { nextCursor: encodeCursor({ b: last.seq }) }
        : {}),
    };
  }
}
