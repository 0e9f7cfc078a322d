import { z } from 'zod';
import { checkpointLine, eventLine, headerLine, keyLine } from '@heroagent/audit-chain';
import type {
  AuditRecord,
  exportAuditBundle,
  RpcRequest,
  SignedAuditEvent,
  SignedCheckpoint,
} from '@heroagent/contracts';
import type { Checkpointer } from '../../checkpoints/checkpointer.js';
import type { KeyRegistry } from '../../keys/key-registry.js';
import type { RecordsRepository, StoredEvent } from '../../store/records.repository.js';
import { requireWholeTenant } from '../access.js';
import { decodeCursor, encodeCursor } from '../cursor.js';

// Pages stay well under NATS's default 1 MiB payload limit.
const PAGE_BYTES = 512 * 1024;
const cursorSchema = z.strictObject({
  t: z.number().int().nonnegative(),
  a: z.number().int().nonnegative(),
});

/**
 * `audit.records.export`: the tenant's record, page by page. JSONL is the verifiable bundle: the
 * export first signs a checkpoint over everything stored, so the bundle ends covered by one and
 * no tail can be cut off unnoticed. `records` are for the gateway to render for people (CSV), with
 * the personal fields it alone can open; they prove nothing.
 */
export class ExportBundle {
  constructor(
    private readonly records: RecordsRepository,
    private readonly keys: KeyRegistry,
    private readonly checkpointer: Checkpointer,
  ) {}

  async execute(request: RpcRequest<typeof exportAuditBundle>) {
    const { viewer } = request;
    requireWholeTenant(viewer, 'export the audit record');
    const tenantId = viewer.tenantId;
    const lines: string[] = [];
    let position: { t: number; a: number };
    if (request.cursor === undefined) {
      const treeSize =
        request.format === 'jsonl'
          ? await this.coveredSize(tenantId)
          : await this.records.headSeq(tenantId);
      position = { t: treeSize, a: 0 };
      if (request.format === 'jsonl') {
        lines.push(
          headerLine({ tenantId, exportedAt: new Date().toISOString(), events: treeSize }),
        );
        for (const key of await this.keys.all()) lines.push(keyLine(key));
      }
    } else {
      position = decodeCursor(request.cursor, cursorSchema);
    }
    const page: StoredEvent[] = [];
    let bytes = lines.reduce((sum, line) => sum + line.length, 0);
    for await (const event of this.records.events(tenantId, position.a + 1, position.t)) {
      page.push(event);
      bytes += event.envelope.length + 200;
      if (bytes >= PAGE_BYTES) break;
    }
    const last = page.at(-1)?.seq ?? position.t;
    const final = last >= position.t;
    if (request.format === 'jsonl') {
      // The last page also carries checkpoints beyond the last stored event: a truncated store
      // exports as a truncated bundle, which the verifier names.
      const upTo = final ? Number.MAX_SAFE_INTEGER : last;
      const checkpoints = await this.records.checkpointsBetween(tenantId, position.a, upTo);
      lines.push(...interleave(page, checkpoints));
    } else {
      for (const event of page) lines.push(JSON.stringify(recordOf(event)));
    }
    return {
      lines,
      ...(final ? {} : { nextCursor: encodeCursor({ t: position.t, a: last }) }),
    };
  }

  /** Signs a checkpoint over everything stored (unless one already covers it) and returns its size. */
  private async coveredSize(tenantId: string): Promise<number> {
    await this.checkpointer.checkpoint(tenantId);
    return (await this.records.latestCheckpoints(tenantId, 1))[0]?.checkpoint.treeSize ?? 0;
  }
}

/** A stored event as `auditRecordSchema` has it. */
function recordOf(event: StoredEvent): AuditRecord {
  return {
    seq: event.seq,
    prevHash: event.prevHash.toString('hex'),
    hash: event.hash.toString('hex'),
    receivedAt: event.receivedAt.toISOString(),
    envelope: JSON.parse(event.envelope) as SignedAuditEvent,
  };
}

function* interleave(
  events: readonly StoredEvent[],
  checkpoints: readonly SignedCheckpoint[],
): Generator<string> {
  let next = 0;
  for (const event of events) {
    yield eventLine({
      seq: event.seq,
      prevHash: event.prevHash.toString('hex'),
      hash: event.hash.toString('hex'),
      envelope: JSON.parse(event.envelope) as SignedAuditEvent,
    });
    while (next < checkpoints.length && checkpoints[next]!.checkpoint.treeSize <= event.seq) {
      yield checkpointLine(checkpoints[next++]!);
    }
  }
  for (; next < checkpoints.length; next += 1) yield checkpointLine(checkpoints[next]!);
}
