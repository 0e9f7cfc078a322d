/** Why the audit stream could not be provisioned, or is not there for the service to use. */
export type AuditStreamErrorCode =
  /** The stream does not exist: it was never provisioned (or was removed). */
  | 'AUDIT_STREAM_MISSING'
  /** The stream exists but its durable consumer does not. */
  | 'AUDIT_CONSUMER_MISSING'
  /** The NATS user may not do this (the audit runtime user, say, trying to provision). */
  | 'NATS_PERMISSION_DENIED'
  /** An update would make the stream smaller than what it holds, dropping stored events. */
  | 'AUDIT_STREAM_SHRINK_REFUSED'
  /** The provisioning settings did not validate. */
  | 'CONFIG_INVALID';

/** The one exception of the audit stream's provisioning and of the runtime's check of it. */
export class AuditStreamError extends Error {
  constructor(
    readonly code: AuditStreamErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'AuditStreamError';
  }
}
