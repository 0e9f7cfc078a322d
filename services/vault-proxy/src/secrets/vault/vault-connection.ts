import { readFile } from 'node:fs/promises';
import nodeVault from 'node-vault';
import { TLS_MIN_VERSION } from '@heroagent/service';
import type { Logger } from '@heroagent/telemetry';
import { SecretsError } from '../secrets-backend.js';

/** How vault-proxy logs in to Vault. */
export type VaultAuth =
  | { readonly method: 'token'; readonly token: string }
  | {
      readonly method: 'approle';
      readonly roleId: string;
      readonly secretId: string;
      readonly mount: string;
    }
  | {
      readonly method: 'kubernetes';
      readonly role: string;
      readonly jwtFile: string;
      readonly mount: string;
    };

/** Where Vault is and how to talk to it. */
export interface VaultConnectionOptions {
  readonly address: string;
  readonly namespace?: string;
  /** PEM file of the CA that signed Vault's certificate. */
  readonly caFile?: string;
  readonly timeoutMs: number;
  readonly auth: VaultAuth;
  /** Treat any warning in a response as a failure (tests): catches parameters Vault ignored. */
  readonly strictWarnings: boolean;
}

/** The parts of Vault's response envelope the adapter reads. */
export interface VaultResponse {
  readonly data?: Record<string, unknown> | null;
  readonly auth?: { client_token?: string; lease_duration?: number; renewable?: boolean } | null;
  readonly warnings?: string[] | null;
}

type Method = 'GET' | 'POST' | 'DELETE' | 'LIST';

/**
 * One authenticated connection to Vault over node-vault's generic `request` (node-vault 0.12's
 * helpers have traps: `tokenCreate` replaces the client's own token and drops fields it does not
 * know, `kubernetesLogin` builds a wrong path without the mount, a client-level namespace
 * overrides per-call headers). Every call has a timeout; errors are mapped to codes (403
 * forbidden, 404 not found, 503 or no answer unavailable); the token is renewed before it expires,
 * and AppRole/Kubernetes log in again when it cannot be.
 */
export class VaultConnection {
  private client: ReturnType<typeof nodeVault>;
  private renewal: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly options: VaultConnectionOptions,
    ca: Buffer | undefined,
    private readonly logger: Logger,
  ) {
    this.client = nodeVault({
      endpoint: options.address,
      apiVersion: 'v1',
      // An https Vault is verified (against `ca`, else the system's trust store) over TLS 1.3 at
      // least: node-vault builds its https.Agent from `ca` and `agentOptions`.
      requestOptions: {
        timeout: options.timeoutMs,
        ...(ca === undefined ? {} : { ca }),
        agentOptions: { minVersion: TLS_MIN_VERSION, rejectUnauthorized: true },
      },
    });
    // node-vault falls back to VAULT_TOKEN and VAULT_NAMESPACE from the environment; never here.
    this.client.token = '';
    (this.client as { namespace?: string }).namespace = undefined;
  }

  static async connect(options: VaultConnectionOptions, logger: Logger): Promise<VaultConnection> {
    const ca = options.caFile === undefined ? undefined : await readFile(options.caFile);
    const connection = new VaultConnection(options, ca, logger);
    await connection.login();
    return connection;
  }

  /** Calls one Vault endpoint (a path without `/v1/`). Returns undefined for 204 No Content. */
  async call(
    method: Method,
    path: string,
    body?: Record<string, unknown>,
  ): Promise<VaultResponse | undefined> {
    const response = await this.raw(method, path, body);
    const warnings = response?.warnings ?? [];
    if (warnings.length > 0) {
      if (this.options.strictWarnings) {
        throw new SecretsError(
          'WARNING',
          `Vault warned on ${method} ${path}: ${warnings.join('; ')}`,
        );
      }
      this.logger.warn(
        { code: 'VAULT_WARNING', method, path, warnings },
        'Vault returned warnings',
      );
    }
    return response;
  }

  /** `sys/health`, which answers with a status (not an error) when sealed or in standby. */
  async health(): Promise<{ sealed: boolean; standby: boolean; initialized: boolean }> {
    const body = (await this.raw('GET', 'sys/health')) as
      { sealed?: boolean; standby?: boolean; initialized?: boolean } | undefined;
    // node-vault resolves sys/health whatever its status: read the flags, do not trust success.
    return {
      sealed: body?.sealed !== false,
      standby: body?.standby === true,
      initialized: body?.initialized === true,
    };
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.renewal);
    return Promise.resolve();
  }

  private async raw(
    method: Method,
    path: string,
    body?: Record<string, unknown>,
  ): Promise<VaultResponse | undefined> {
    const headers: Record<string, string> = {};
    if (this.options.namespace !== undefined) headers['X-Vault-Namespace'] = this.options.namespace;
    const listing = method === 'LIST';
    try {
      const result: unknown = await this.client.request({
        path: `/${path}${listing ? '?list=true' : ''}`,
        method: listing ? 'GET' : method,
        headers,
        timeout: this.options.timeoutMs,
        ...(body === undefined ? {} : { json: body }),
      });
      return result === '' || result === undefined || result === null ? undefined : result;
    } catch (error) {
      throw toSecretsError(error, `${method} ${path}`);
    }
  }

  private async login(): Promise<void> {
    const { auth } = this.options;
    if (auth.method === 'token') {
      this.client.token = auth.token;
      const self = await this.call('GET', 'auth/token/lookup-self');
      const ttl = Number(self?.data?.ttl ?? 0);
      if (self?.data?.renewable === true && ttl > 0) this.scheduleRenewal(ttl);
      return;
    }
    const body =
      auth.method === 'approle'
        ? { role_id: auth.roleId, secret_id: auth.secretId }
        : { role: auth.role, jwt: (await readFile(auth.jwtFile, 'utf8')).trim() };
    this.client.token = '';
    const response = await this.call('POST', `auth/${auth.mount}/login`, body);
    const token = response?.auth?.client_token;
    if (typeof token !== 'string' || token === '')
      throw new SecretsError('FORBIDDEN', `Vault ${auth.method} login gave no token`);
    this.client.token = token;
    const ttl = response?.auth?.lease_duration ?? 0;
    if (ttl > 0) this.scheduleRenewal(ttl);
    this.logger.info({ method: auth.method, ttlSeconds: ttl }, 'logged in to Vault');
  }

  /** Renews at two thirds of the TTL; logs in again if renewal fails and the method allows it. */
  private scheduleRenewal(ttlSeconds: number): void {
    clearTimeout(this.renewal);
    this.renewal = setTimeout(() => void this.renew(), Math.max(1, (ttlSeconds * 2) / 3) * 1000);
    this.renewal.unref();
  }

  private async renew(): Promise<void> {
    if (this.closed) return;
    try {
      const response = await this.call('POST', 'auth/token/renew-self', {});
      this.scheduleRenewal(response?.auth?.lease_duration ?? 60);
    } catch (error) {
      this.logger.warn({ err: error, code: 'VAULT_RENEWAL_FAILED' }, 'Vault token renewal failed');
      if (this.options.auth.method !== 'token') {
        await this.login().catch((loginError: unknown) => {
          this.logger.error(
            { err: loginError, code: 'VAULT_LOGIN_FAILED' },
            'Vault login failed; retrying',
          );
          this.scheduleRenewal(15);
        });
      }
    }
  }
}

/** Maps node-vault's errors to codes, keeping Vault's message (it never echoes a token). */
export function toSecretsError(error: unknown, what: string): SecretsError {
  const status = (error as { response?: { statusCode?: number } }).response?.statusCode;
  const message = error instanceof Error ? error.message.split('\n')[0]! : 'failed';
  if (status === 403) return new SecretsError('FORBIDDEN', `Vault refused ${what}: ${message}`);
  if (status === 404) return new SecretsError('NOT_FOUND', `Vault has nothing at ${what}`);
  if (status === 400) return new SecretsError('INVALID', `Vault rejected ${what}: ${message}`);
  if (status === 503 || status === undefined || status >= 500) {
    return new SecretsError('UNAVAILABLE', `Vault is unavailable for ${what}: ${message}`);
  }
  return new SecretsError('INVALID', `Vault answered ${status} to ${what}: ${message}`);
}
