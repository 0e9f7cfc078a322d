import { SeverityNumber, type HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { SignedCheckpoint } from '@heroagent/contracts';
import { canonicalJson } from '@heroagent/crypto';
import { PLATFORM_VERSION } from '@heroagent/service';

const SCOPE = { name: 'heroagent.audit', version: PLATFORM_VERSION };
const RESOURCE = resourceFromAttributes({
  'service.name': 'heroagent-audit',
  'service.version': PLATFORM_VERSION,
});

function hrTime(ms: number): HrTime {
  return [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];
}

/**
 * One signed checkpoint as an OpenTelemetry log record (`heroagent.audit.checkpoint`). The body
 * is the signed checkpoint as canonical JSON text, byte for byte what `pnpm audit:verify --since`
 * reads (a structured body would turn its integers into OTLP strings); the attributes let a SIEM
 * search and alert on number, size and root without parsing it.
 */
export function toCheckpointLogRecord(signed: SignedCheckpoint): ReadableLogRecord {
  const { checkpoint } = signed;
  const signedAt = Date.parse(checkpoint.timestamp);
  return {
    hrTime: hrTime(signedAt),
    hrTimeObserved: hrTime(signedAt),
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    eventName: 'heroagent.audit.checkpoint',
    body: canonicalJson(signed),
    attributes: {
      'heroagent.tenant.id': checkpoint.tenantId,
      ...(checkpoint.v === 2 ? { 'heroagent.checkpoint.index': checkpoint.index } : {}),
      'heroagent.checkpoint.tree_size': checkpoint.treeSize,
      'heroagent.checkpoint.root_hash': checkpoint.rootHash,
      'heroagent.checkpoint.kid': signed.signature.kid,
    },
    droppedAttributesCount: 0,
    resource: RESOURCE,
    instrumentationScope: SCOPE,
  };
}
