import type { Logger } from '@heroagent/telemetry';

/** Where a connection's refresh token lives: one secret per tenant and connection. */
export interface SecretRef {
  readonly tenantId: string;
  readonly connectionId: string;
}

/** Whose key-encryption key wraps a data key: the tenant's, or one person's within it. */
export interface KeyOwner {
  readonly tenantId: string;
  readonly scope: 'tenant' | 'user';
  readonly id: string;
}

/** A fresh data key: its plaintext (for immediate use, never stored) and its wrapped form. */
export interface DataKey {
  readonly plaintext: Buffer;
  readonly wrapped: string;
  readonly keyVersion: number;
}

/** Whether the backend can serve; `sealed` and `standby` as Vault reports them. */
export interface BackendHealth {
  readonly available: boolean;
  readonly sealed: boolean;
  readonly standby: boolean;
  readonly detail: string;
}

/** Every way a secrets backend refuses. `UNAVAILABLE` means fail closed. */
export type SecretsErrorCode = 'FORBIDDEN' | 'NOT_FOUND' | 'UNAVAILABLE' | 'INVALID' | 'WARNING';

/** The backend's one exception. Its message never contains a secret or a token. */
export class SecretsError extends Error {
  constructor(
    readonly code: SecretsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SecretsError';
  }
}

/**
 * The port between vault-proxy and wherever secrets are kept: Vault (KV v2 for refresh tokens,
 * Transit for key-encryption keys) in production, the embedded store for one machine.
 */
export interface SecretsBackend {
  readonly kind: 'vault' | 'embedded';
  /** Work to do once the service runs (the embedded store's warning and rewrap). */
  start?(logger: Logger): Promise<void>;
  health(): Promise<BackendHealth>;
  /** Stores a refresh token as the connection's newest version; returns that version. */
  putRefreshToken(ref: SecretRef, token: string): Promise<number>;
  /** The newest version, or undefined when none is stored. */
  getRefreshToken(ref: SecretRef): Promise<string | undefined>;
  /** Deletes every version of the connection's secret. */
  deleteRefreshToken(ref: SecretRef): Promise<void>;
  /** Deletes every refresh token of a tenant; returns how many secrets went. */
  deleteTenantSecrets(tenantId: string): Promise<number>;
  createDataKey(owner: KeyOwner): Promise<DataKey>;
  openDataKey(owner: KeyOwner, wrapped: string): Promise<Buffer>;
  /** Adds a version to the owner's key-encryption key; new data keys use it. */
  rotateKey(owner: KeyOwner): Promise<number>;
  /** Re-wraps a data key under the owner's newest key version. */
  rewrapDataKey(owner: KeyOwner, wrapped: string): Promise<string>;
  /** Destroys the owner's key-encryption key: every data key it wrapped becomes unreadable. */
  deleteKeys(owner: KeyOwner): Promise<boolean>;
  /** Destroys the keys of every person of a tenant, and the tenant's own. Returns how many. */
  deleteTenantKeys(tenantId: string): Promise<number>;
  close(): Promise<void>;
}

const NAME = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * A path segment the backend may use. node-vault does not URL-encode paths, and Vault paths are
 * a namespace of their own: only plain names (ids) ever go into one.
 */
export function pathSegment(value: string): string {
  if (!NAME.test(value))
    throw new SecretsError('INVALID', 'a secrets path segment must be [A-Za-z0-9_-]');
  return value;
}

/** The name of an owner's key-encryption key (a Transit key name, or the embedded store's). */
export function keyName(owner: KeyOwner): string {
  return owner.scope === 'tenant'
    ? `t-${pathSegment(owner.tenantId)}`
    : `u-${pathSegment(owner.tenantId)}-${pathSegment(owner.id)}`;
}
