import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';

/**
 * A test double of HashiCorp Vault's HTTP API (https://developer.hashicorp.com/vault/api-docs),
 * enough of it to test the Vault adapter the way a real server would treat it: the response
 * envelope, `{"errors":[…]}` bodies with 400/403/404/503, tokens with policies, TTLs and
 * `num_uses`, AppRole and Kubernetes login, KV v2, Transit, response wrapping, a sealed switch,
 * standby, and the warning Vault gives for parameters an endpoint does not recognise. It records
 * every request so tests can assert exact paths and headers.
 */

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown> | undefined;
  /** The TLS version the request came over (`TLSv1.3`), or undefined over plain HTTP. */
  readonly tls: string | undefined;
}

/** The Vault double's HTTPS listener: its certificate and key (PEM), and the TLS versions it offers. */
export interface VaultDoubleTls {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

type Capability = 'create' | 'read' | 'update' | 'delete' | 'list' | 'sudo' | 'deny';
interface PolicyRule {
  readonly path: string;
  readonly capabilities: readonly Capability[];
}
interface Token {
  readonly id: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly ttlSeconds: number;
  expiresAt: number;
  readonly renewable: boolean;
  usesLeft: number;
}
interface KvSecret {
  versions: {
    data: Record<string, unknown>;
    created: string;
    deleted: boolean;
    destroyed: boolean;
  }[];
}
interface TransitKey {
  versions: Buffer[];
  deletionAllowed: boolean;
  minDecryptionVersion: number;
}
interface Mount {
  readonly type: 'kv' | 'transit';
  readonly kv: Map<string, KvSecret>;
  readonly keys: Map<string, TransitKey>;
}
interface Reply {
  status: number;
  body?: unknown;
}

class VaultHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join('; '));
  }
}

const fail = (status: number, ...errors: string[]): never => {
  throw new VaultHttpError(status, errors);
};

// The parameters each endpoint of ours accepts; anything else earns Vault's warning.
const KNOWN_PARAMS: [RegExp, string[]][] = [
  [
    /^sys\/mounts\//,
    ['type', 'description', 'config', 'options', 'local', 'seal_wrap', 'plugin_name'],
  ],
  [
    /^auth\/token\/create/,
    [
      'policies',
      'ttl',
      'num_uses',
      'renewable',
      'no_parent',
      'display_name',
      'meta',
      'period',
      'explicit_max_ttl',
      'no_default_policy',
      'type',
    ],
  ],
  [/^auth\/token\/renew-self$/, ['increment']],
  [/^auth\/approle\/login$/, ['role_id', 'secret_id']],
  [/^auth\/[^/]+\/login$/, ['role', 'jwt']],
  [/^sys\/wrapping\/unwrap$/, ['token']],
  [/\/data\//, ['data', 'options']],
  [/\/(delete|destroy|undelete)\//, ['versions']],
  [
    /\/keys\/[^/]+\/config$/,
    [
      'deletion_allowed',
      'min_decryption_version',
      'min_encryption_version',
      'exportable',
      'allow_plaintext_backup',
      'auto_rotate_period',
    ],
  ],
  [/\/keys\/[^/]+\/rotate$/, []],
  [
    /\/keys\/[^/]+$/,
    [
      'type',
      'exportable',
      'derived',
      'convergent_encryption',
      'allow_plaintext_backup',
      'auto_rotate_period',
      'key_size',
    ],
  ],
  [/\/(encrypt)\//, ['plaintext', 'context', 'key_version', 'nonce', 'type']],
  [/\/(decrypt)\//, ['ciphertext', 'context', 'nonce']],
  [/\/rewrap\//, ['ciphertext', 'context', 'key_version', 'nonce']],
  [/\/datakey\//, ['bits', 'context', 'nonce']],
];

export class VaultDouble {
  readonly requests: RecordedRequest[] = [];
  readonly rootToken = `hvs.${randomBytes(18).toString('base64url')}`;
  sealed = false;
  standby = false;
  private readonly tokens = new Map<string, Token>();
  private readonly policies = new Map<string, PolicyRule[]>();
  private readonly mounts = new Map<string, Mount>();
  private readonly appRoles = new Map<string, { secretId: string; policies: string[] }>();
  private readonly kubernetesRoles = new Map<string, { jwt: string; policies: string[] }>();
  private readonly wrapped = new Map<string, unknown>();
  private server: Server | undefined;
  private port = 0;
  private https = false;

  private constructor() {
    this.tokens.set(this.rootToken, this.token(this.rootToken, ['root'], 0, 0));
  }

  /** Starts the double on a free port of 127.0.0.1: plain HTTP, or HTTPS when `tls` is given. */
  static async start(options: { tls?: VaultDoubleTls } = {}): Promise<VaultDouble> {
    const double = new VaultDouble();
    const handler = (request: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const url = new URL(request.url ?? '/', 'http://vault');
        let body: Record<string, unknown> | undefined;
        let reply: Reply;
        try {
          const text = Buffer.concat(chunks).toString('utf8');
          body = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
          const path = url.pathname.replace(/^\/v1\//, '');
          double.requests.push({
            method: request.method ?? 'GET',
            path,
            query: url.searchParams,
            headers: request.headers,
            body,
            tls: (request.socket as Partial<TLSSocket>).getProtocol?.() ?? undefined,
          });
          reply = double.handle(
            request.method ?? 'GET',
            path,
            url.searchParams,
            request.headers,
            body ?? {},
          );
        } catch (error) {
          reply =
            error instanceof VaultHttpError
              ? { status: error.status, body: { errors: error.errors } }
              : { status: 500, body: { errors: [String(error)] } };
        }
        response.writeHead(reply.status, { 'content-type': 'application/json' });
        response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      });
    };
    double.https = options.tls !== undefined;
    double.server =
      options.tls === undefined ? createServer(handler) : createHttpsServer(options.tls, handler);
    await new Promise<void>((resolve) => double.server!.listen(0, '127.0.0.1', resolve));
    double.port = (double.server.address() as AddressInfo).port;
    return double;
  }

  get address(): string {
    return `${this.https ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Defines a policy: path rules as Vault's HCL would, `*` a prefix glob, `+` one segment. */
  setPolicy(name: string, rules: PolicyRule[]): void {
    this.policies.set(name, rules);
  }

  /** Issues a token directly (as an operator would), for tests. */
  issueToken(policies: string[], options: { ttlSeconds?: number; numUses?: number } = {}): string {
    const id = `hvs.${randomBytes(18).toString('base64url')}`;
    this.tokens.set(id, this.token(id, policies, options.ttlSeconds ?? 3600, options.numUses ?? 0));
    return id;
  }

  addAppRole(policies: string[]): { roleId: string; secretId: string } {
    const roleId = randomUUID();
    const secretId = randomUUID();
    this.appRoles.set(roleId, { secretId, policies });
    return { roleId, secretId };
  }

  addKubernetesRole(role: string, jwt: string, policies: string[]): void {
    this.kubernetesRoles.set(role, { jwt, policies });
  }

  /** Makes a token expire now, as if its TTL ran out. */
  expire(token: string): void {
    const found = this.tokens.get(token);
    if (found) found.expiresAt = Date.now() - 1;
  }

  private token(id: string, policies: string[], ttlSeconds: number, numUses: number): Token {
    return {
      id,
      accessor: randomUUID(),
      policies,
      ttlSeconds,
      expiresAt: ttlSeconds === 0 ? Number.POSITIVE_INFINITY : Date.now() + ttlSeconds * 1000,
      renewable: ttlSeconds > 0,
      usesLeft: numUses,
    };
  }

  private handle(
    method: string,
    path: string,
    query: URLSearchParams,
    headers: IncomingHttpHeaders,
    body: Record<string, unknown>,
  ): Reply {
    if (method === 'GET' && path === 'sys/health') return this.health(query);
    if (method === 'GET' && path === 'sys/seal-status')
      return { status: 200, body: { sealed: this.sealed, initialized: true, type: 'shamir' } };
    if (this.sealed) fail(503, 'Vault is sealed');
    if (this.standby) fail(503, 'node is in standby mode');
    const verb = method === 'GET' && query.get('list') === 'true' ? 'LIST' : method;
    const warnings = this.unknownParams(path, verb, body);
    // Logins are the only unauthenticated endpoints.
    const login = this.login(path, body);
    if (login !== undefined) return this.envelope({ auth: login }, warnings);
    if (path === 'sys/wrapping/unwrap') return this.unwrap(headers, body);
    const token = this.authenticate(headers, path, verb);
    const result = this.route(verb, path, query, body, token);
    const wrapTtl = headers['x-vault-wrap-ttl'];
    if (typeof wrapTtl === 'string' && result.body !== undefined) {
      const wrappingToken = `hvs.${randomBytes(18).toString('base64url')}`;
      this.wrapped.set(wrappingToken, result.body);
      return this.envelope(
        {
          wrap_info: {
            token: wrappingToken,
            accessor: randomUUID(),
            ttl: Number.parseInt(wrapTtl, 10),
            creation_time: new Date().toISOString(),
            creation_path: path,
          },
        },
        warnings,
      );
    }
    // Vault answers 204 only when it has nothing to say; warnings make it a 200 with a body.
    if (result.status === 204 && warnings.length === 0) return result;
    return this.envelope(
      (result.body ?? {}) as Record<string, unknown>,
      warnings,
      result.status === 204 ? 200 : result.status,
    );
  }

  private envelope(fields: Record<string, unknown>, warnings: string[], status = 200): Reply {
    return {
      status,
      body: {
        request_id: randomUUID(),
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: null,
        wrap_info: null,
        warnings: warnings.length > 0 ? warnings : null,
        auth: null,
        ...fields,
      },
    };
  }

  private health(query: URLSearchParams): Reply {
    const body = {
      initialized: true,
      sealed: this.sealed,
      standby: this.standby,
      performance_standby: false,
      version: '1.17.0+double',
      cluster_name: 'vault-double',
      server_time_utc: Math.floor(Date.now() / 1000),
    };
    if (this.sealed) return { status: Number(query.get('sealedcode') ?? 503), body };
    if (this.standby)
      return {
        status: query.get('standbyok') === 'true' ? 200 : Number(query.get('standbycode') ?? 429),
        body,
      };
    return { status: Number(query.get('activecode') ?? 200), body };
  }

  private unknownParams(path: string, verb: string, body: Record<string, unknown>): string[] {
    if (verb !== 'POST' && verb !== 'PUT') return [];
    const known = KNOWN_PARAMS.find(([pattern]) => pattern.test(path))?.[1];
    if (known === undefined) return [];
    const unknown = Object.keys(body).filter((key) => !known.includes(key));
    return unknown.length === 0
      ? []
      : [`Endpoint ignored these unrecognized parameters: [${unknown.join(' ')}]`];
  }

  private login(path: string, body: Record<string, unknown>): Record<string, unknown> | undefined {
    let policies: string[] | undefined;
    if (path === 'auth/approle/login') {
      const role = this.appRoles.get(String(body.role_id));
      if (role === undefined || role.secretId !== body.secret_id)
        fail(400, 'invalid role or secret ID');
      policies = role!.policies;
    } else {
      const match = /^auth\/([^/]+)\/login$/.exec(path);
      if (match === null || match[1] === 'approle') return undefined;
      if (match[1] !== 'kubernetes' && match[1] !== 'k8s-cluster')
        fail(404, `no handler for route "${path}"`);
      const role = this.kubernetesRoles.get(String(body.role));
      if (role === undefined || role.jwt !== body.jwt) fail(403, 'permission denied');
      policies = role!.policies;
    }
    const id = `hvs.${randomBytes(18).toString('base64url')}`;
    const token = this.token(id, policies, 60, 0);
    this.tokens.set(id, token);
    return {
      client_token: id,
      accessor: token.accessor,
      policies: token.policies,
      lease_duration: 60,
      renewable: true,
    };
  }

  private unwrap(headers: IncomingHttpHeaders, body: Record<string, unknown>): Reply {
    const id = typeof body.token === 'string' ? body.token : headers['x-vault-token'];
    const data = typeof id === 'string' ? this.wrapped.get(id) : undefined;
    if (data === undefined) fail(400, 'wrapping token is not valid or does not exist');
    this.wrapped.delete(id as string);
    return { status: 200, body: data };
  }

  private authenticate(headers: IncomingHttpHeaders, path: string, verb: string): Token {
    const id = headers['x-vault-token'];
    const token = typeof id === 'string' ? this.tokens.get(id) : undefined;
    if (token === undefined || token.expiresAt <= Date.now()) fail(403, 'permission denied');
    if (!this.allowed(token!, path, verb))
      fail(403, '1 error occurred:\n\t* permission denied\n\n');
    if (token!.usesLeft > 0) {
      token!.usesLeft -= 1;
      if (token!.usesLeft === 0) this.tokens.delete(token!.id);
    }
    return token!;
  }

  private allowed(token: Token, path: string, verb: string): boolean {
    if (token.policies.includes('root')) return true;
    // Every token may look after itself.
    if (/^auth\/token\/(lookup-self|renew-self|revoke-self)$/.test(path)) return true;
    const needed: Capability[] =
      verb === 'GET'
        ? ['read']
        : verb === 'LIST'
          ? ['list']
          : verb === 'DELETE'
            ? ['delete']
            : ['create', 'update'];
    const rules = token.policies.flatMap((name) => this.policies.get(name) ?? []);
    const matching = rules.filter((rule) => pathMatches(rule.path, path));
    if (matching.some((rule) => rule.capabilities.includes('deny'))) return false;
    return matching.some((rule) =>
      needed.some((capability) => rule.capabilities.includes(capability)),
    );
  }

  private route(
    verb: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
    token: Token,
  ): Reply {
    if (path === 'auth/token/lookup-self' && verb === 'GET') {
      return {
        status: 200,
        body: {
          data: {
            id: token.id,
            policies: token.policies,
            ttl: Math.max(0, Math.round((token.expiresAt - Date.now()) / 1000)),
            num_uses: token.usesLeft,
            renewable: token.renewable,
          },
        },
      };
    }
    if (path === 'auth/token/renew-self') {
      if (!token.renewable) fail(400, 'token is not renewable');
      token.expiresAt = Date.now() + token.ttlSeconds * 1000;
      return {
        status: 200,
        body: {
          auth: {
            client_token: token.id,
            policies: token.policies,
            lease_duration: token.ttlSeconds,
            renewable: true,
          },
        },
      };
    }
    if (path === 'auth/token/create') {
      const policies = Array.isArray(body.policies) ? body.policies.map(String) : token.policies;
      const ttl = parseDuration(body.ttl) ?? 3600;
      const id = `hvs.${randomBytes(18).toString('base64url')}`;
      const created = this.token(id, [...policies], ttl, Number(body.num_uses ?? 0));
      this.tokens.set(id, created);
      return {
        status: 200,
        body: {
          auth: {
            client_token: id,
            accessor: created.accessor,
            policies,
            lease_duration: ttl,
            renewable: created.renewable,
            num_uses: created.usesLeft,
          },
        },
      };
    }
    const mountMatch = /^sys\/mounts\/(.+)$/.exec(path);
    if (mountMatch) {
      if (!token.policies.includes('root')) fail(403, 'permission denied');
      if (verb === 'DELETE') {
        this.mounts.delete(mountMatch[1]!);
        return { status: 204 };
      }
      if (this.mounts.has(mountMatch[1]!)) fail(400, `path is already in use at ${mountMatch[1]}/`);
      const type =
        body.type === 'transit'
          ? 'transit'
          : body.type === 'kv' || body.type === 'kv-v2'
            ? 'kv'
            : fail(400, 'unknown backend type');
      this.mounts.set(mountMatch[1]!, {
        type: type,
        kv: new Map(),
        keys: new Map(),
      });
      return { status: 204 };
    }
    const [mountName, mount] = [...this.mounts].find(([name]) => path.startsWith(`${name}/`)) ?? [];
    if (mount === undefined || mountName === undefined)
      fail(404, `no handler for route "${path}". route entry not found.`);
    const rest = path.slice(mountName!.length + 1);
    return mount!.type === 'kv'
      ? kvRoute(mount!, verb, rest, query, body)
      : transitRoute(mount!, verb, rest, body);
  }
}

function pathMatches(pattern: string, path: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('')
      .map((char) =>
        char === '*' ? '.*' : char === '+' ? '[^/]+' : char.replace(/[.?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('')}${pattern.endsWith('*') ? '' : '$'}`,
  );
  return regex.test(path);
}

function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+)([smh]?)$/.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * ({ s: 1, m: 60, h: 3600, '': 1 } as Record<string, number>)[match[2]!]!;
}

function kvRoute(
  mount: Mount,
  verb: string,
  rest: string,
  query: URLSearchParams,
  body: Record<string, unknown>,
): Reply {
  const [kind, ...segments] = rest.split('/');
  const key = segments.join('/');
  const secret = mount.kv.get(key);
  if (kind === 'data') {
    if (verb === 'GET') {
      const wanted = query.get('version');
      const version =
        secret === undefined
          ? undefined
          : wanted && wanted !== '0'
            ? Number(wanted)
            : secret.versions.length;
      const entry = version === undefined ? undefined : secret!.versions[version - 1];
      if (entry === undefined || entry.deleted || entry.destroyed) fail(404);
      return {
        status: 200,
        body: {
          data: {
            data: entry!.data,
            metadata: {
              version,
              created_time: entry!.created,
              deletion_time: '',
              destroyed: false,
            },
          },
        },
      };
    }
    if (verb === 'POST' || verb === 'PUT') {
      if (typeof body.data !== 'object' || body.data === null) fail(400, 'no data provided');
      const cas = (body.options as { cas?: number } | undefined)?.cas;
      const current = secret?.versions.length ?? 0;
      if (cas !== undefined && cas !== current)
        fail(400, 'check-and-set parameter did not match the current version');
      const next = secret ?? { versions: [] };
      next.versions.push({
        data: body.data as Record<string, unknown>,
        created: new Date().toISOString(),
        deleted: false,
        destroyed: false,
      });
      mount.kv.set(key, next);
      return {
        status: 200,
        body: {
          data: {
            version: next.versions.length,
            created_time: new Date().toISOString(),
            deletion_time: '',
            destroyed: false,
          },
        },
      };
    }
    if (verb === 'DELETE') {
      const latest = secret?.versions.at(-1);
      if (latest) latest.deleted = true;
      return { status: 204 };
    }
  }
  if (kind === 'metadata') {
    if (verb === 'DELETE') {
      mount.kv.delete(key);
      return { status: 204 };
    }
    if (verb === 'LIST') {
      const prefix = key === '' ? '' : `${key.replace(/\/$/, '')}/`;
      const keys = [
        ...new Set(
          [...mount.kv.keys()]
            .filter((name) => name.startsWith(prefix))
            .map((name) => {
              const tail = name.slice(prefix.length);
              return tail.includes('/') ? `${tail.split('/')[0]}/` : tail;
            }),
        ),
      ];
      if (keys.length === 0) fail(404);
      return { status: 200, body: { data: { keys } } };
    }
    if (verb === 'GET') {
      if (secret === undefined) fail(404);
      return {
        status: 200,
        body: {
          data: {
            current_version: secret!.versions.length,
            versions: Object.fromEntries(
              secret!.versions.map((v, i) => [
                String(i + 1),
                { created_time: v.created, destroyed: v.destroyed },
              ]),
            ),
          },
        },
      };
    }
  }
  if (kind === 'destroy' && (verb === 'POST' || verb === 'PUT')) {
    for (const version of (body.versions as number[] | undefined) ?? []) {
      const entry = secret?.versions[version - 1];
      if (entry) entry.destroyed = true;
    }
    return { status: 204 };
  }
  return fail(405, 'unsupported operation');
}

function seal(key: Buffer, plaintext: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64');
}

function unseal(key: Buffer, sealed: string): Buffer {
  const bytes = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
}

function transitRoute(
  mount: Mount,
  verb: string,
  rest: string,
  body: Record<string, unknown>,
): Reply {
  if (verb === 'LIST' && rest === 'keys') {
    if (mount.keys.size === 0) fail(404);
    return { status: 200, body: { data: { keys: [...mount.keys.keys()] } } };
  }
  const keyOp = /^keys\/([^/]+)(\/(config|rotate))?$/.exec(rest);
  if (keyOp) {
    const [, name, , op] = keyOp;
    const key = mount.keys.get(name!);
    if (op === 'rotate') {
      if (!key) fail(400, 'key not found');
      key!.versions.push(randomBytes(32));
      return { status: 204 };
    }
    if (op === 'config') {
      if (!key) fail(400, 'key not found');
      if (typeof body.deletion_allowed === 'boolean') key!.deletionAllowed = body.deletion_allowed;
      if (typeof body.min_decryption_version === 'number')
        key!.minDecryptionVersion = body.min_decryption_version;
      return { status: 204 };
    }
    if (verb === 'POST' || verb === 'PUT') {
      if (!key)
        mount.keys.set(name!, {
          versions: [randomBytes(32)],
          deletionAllowed: false,
          minDecryptionVersion: 1,
        });
      return { status: 204 };
    }
    if (verb === 'GET') {
      if (!key) fail(404);
      return {
        status: 200,
        body: {
          data: {
            name,
            type: 'aes256-gcm96',
            latest_version: key!.versions.length,
            min_decryption_version: key!.minDecryptionVersion,
            deletion_allowed: key!.deletionAllowed,
            keys: Object.fromEntries(key!.versions.map((_v, i) => [String(i + 1), 1700000000])),
          },
        },
      };
    }
    if (verb === 'DELETE') {
      if (!key) fail(400, 'could not delete key; not found');
      if (!key!.deletionAllowed) fail(400, 'deletion is not allowed for this key');
      mount.keys.delete(name!);
      return { status: 204 };
    }
  }
  const op = /^(encrypt|decrypt|rewrap|datakey\/(plaintext|wrapped))\/([^/]+)$/.exec(rest);
  if (!op) return fail(405, 'unsupported operation');
  const [, action, , name] = op;
  const key = mount.keys.get(name!);
  if (!key) fail(400, 'encryption key not found');
  const latest = key!.versions.length;
  const encrypt = (plaintext: Buffer) =>
    `vault:v${latest}:${seal(key!.versions[latest - 1]!, plaintext)}`;
  const decrypt = (ciphertext: unknown) => {
    const match = /^vault:v(\d+):(.+)$/.exec(String(ciphertext));
    if (!match) fail(400, 'invalid ciphertext: no prefix');
    const version = Number(match![1]);
    if (version < key!.minDecryptionVersion || version > latest) fail(400, 'invalid key version');
    try {
      return unseal(key!.versions[version - 1]!, match![2]!);
    } catch {
      return fail(400, 'cipher: message authentication failed');
    }
  };
  if (action === 'encrypt')
    return {
      status: 200,
      body: {
        data: {
          ciphertext: encrypt(Buffer.from(String(body.plaintext), 'base64')),
          key_version: latest,
        },
      },
    };
  if (action === 'decrypt')
    return {
      status: 200,
      body: { data: { plaintext: decrypt(body.ciphertext).toString('base64') } },
    };
  if (action === 'rewrap')
    return {
      status: 200,
      body: { data: { ciphertext: encrypt(decrypt(body.ciphertext)), key_version: latest } },
    };
  const bits = Number(body.bits ?? 256);
  if (![128, 256, 512].includes(bits)) fail(400, 'invalid bits');
  const plaintext = randomBytes(bits / 8);
  return {
    status: 200,
    body: {
      data: {
        ciphertext: encrypt(plaintext),
        key_version: latest,
        ...(action === 'datakey/plaintext' ? { plaintext: plaintext.toString('base64') } : {}),
      },
    },
  };
}
