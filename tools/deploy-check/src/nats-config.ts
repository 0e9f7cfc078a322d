import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEPLOY_DIR } from './paths.js';
import { DeployCheckError } from './errors.js';

/**
 * The Kubernetes NATS configuration is generated from deploy/nats/heroagent.conf, the file
 * libs/service's permission tests run nats-server with: its `max_payload` and its `users` list are
 * copied into the platform's account, so the cluster enforces exactly the tested permissions. One
 * thing changes: each user is known by its nkey (`nkey: $HEROAGENT_NATS_<USER>_NKEY`, a public key
 * the server reads from its environment) instead of a name and password. What is added is the
 * server's own part: cluster routes, TLS (client certificates required), JetStream, a system
 * account. `pnpm deploy:check nats-config --write` regenerates deploy/k8s/base/nats-config.yaml.
 */
export const NATS_CONFIG_SOURCE = join(DEPLOY_DIR, 'nats', 'heroagent.conf');
export const NATS_CONFIGMAP_FILE = join(DEPLOY_DIR, 'k8s', 'base', 'nats-config.yaml');
export const NATS_REPLICAS = 3;

/** What the generated configuration takes from heroagent.conf. */
export interface NatsPermissionSource {
  readonly maxPayload: number;
  /** The text of the `users = [ … ]` list, from its `[` to its `]`. */
  readonly usersBlock: string;
  /** The users it names, in order. */
  readonly users: readonly string[];
  /** The environment variables their passwords are read from. */
  readonly passwordVariables: readonly string[];
  /** The environment variables their nkeys (public keys) are read from, in the same order. */
  readonly nkeyVariables: readonly string[];
  /** {@link usersBlock} with each user known by its nkey: no name, no password. */
  readonly nkeyUsersBlock: string;
}

/** Reads `max_payload` and the users list out of heroagent.conf's text. */
export function extractPermissionSource(text: string): NatsPermissionSource {
  const payload = /^max_payload:\s*(\d+)\s*$/m.exec(text);
  if (payload === null)
    throw new DeployCheckError('NATS_CONFIG_INVALID', 'heroagent.conf sets no max_payload');
  const start = /\busers\s*=\s*\[/.exec(text);
  if (start === null)
    throw new DeployCheckError('NATS_CONFIG_INVALID', 'heroagent.conf has no `users = [` list');
  const open = start.index + start[0].length - 1;
  const close = matchingBracket(text, open);
  const usersBlock = text.slice(open, close + 1);
  const users = [...usersBlock.matchAll(/^\s*user:\s*([A-Za-z0-9_-]+)\s*$/gm)].map((m) => m[1]!);
  const passwordVariables = [...usersBlock.matchAll(/^\s*password:\s*\$([A-Z0-9_]+)\s*$/gm)].map(
    (m) => m[1]!,
  );
  if (users.length === 0 || users.length !== passwordVariables.length) {
    throw new DeployCheckError(
      'NATS_CONFIG_INVALID',
      'every user in heroagent.conf needs `user: <name>` and `password: $<VARIABLE>` lines',
    );
  }
  const nkeyVariables = passwordVariables.map((variable) => {
    if (!variable.endsWith('_PASSWORD'))
      throw new DeployCheckError(
        'NATS_CONFIG_INVALID',
        `heroagent.conf: ${variable} must end in _PASSWORD (its nkey is read from …_NKEY)`,
      );
    return variable.replace(/_PASSWORD$/, '_NKEY');
  });
  // nats-server refuses a name or password on an nkey user: the name stays as a comment.
  const nkeyUsersBlock = usersBlock
    .replace(/^(\s*)user:\s*([A-Za-z0-9_-]+)\s*$/gm, '$1# NATS user "$2", known by its nkey')
    .replace(/^(\s*)password:\s*\$([A-Z0-9_]+)_PASSWORD\s*$/gm, '$1nkey: $$$2_NKEY');
  return {
    maxPayload: Number(payload[1]),
    usersBlock,
    users,
    passwordVariables,
    nkeyVariables,
    nkeyUsersBlock,
  };
}

/** The index of the `]` closing the `[` at `open`, skipping comments and quoted strings. */
function matchingBracket(text: string, open: number): number {
  let depth = 0;
  for (let index = open; index < text.length; index += 1) {
    const char = text[index]!;
    if (char === '#' || (char === '/' && text[index + 1] === '/')) {
      const end = text.indexOf('\n', index);
      index = end === -1 ? text.length : end;
    } else if (char === '"') {
      const end = text.indexOf('"', index + 1);
      if (end === -1) break;
      index = end;
    } else if (char === '[' || char === '{') {
      depth += 1;
    } else if (char === ']' || char === '}') {
      depth -= 1;
      if (depth === 0) return index;
    }
  }
  throw new DeployCheckError(
    'NATS_CONFIG_INVALID',
    'the users list in heroagent.conf is not closed',
  );
}

/** The system account's user: for `nats server` operations and monitoring, no service holds it. */
export const SYSTEM_USER = 'sys';
export const SYSTEM_PASSWORD_VARIABLE = 'HEROAGENT_NATS_SYS_PASSWORD';
/** Where the NATS pods read the users' public nkeys (not secret) and the system user's password. */
export const NKEYS_CONFIGMAP = 'heroagent-nats-public-nkeys';
export const SYSTEM_SECRET = 'heroagent-nats-sys';

/** nats-server's configuration for the Kubernetes StatefulSet. */
export function renderNatsConfig(source: NatsPermissionSource): string {
  const routes = Array.from(
    { length: NATS_REPLICAS },
    (_, index) => `    "nats-route://nats-${index}.nats-headless.heroagent.svc.cluster.local:6222"`,
  ).join('\n');
  return `# Generated by tools/deploy-check from deploy/nats/heroagent.conf: do not edit by hand.
# \`pnpm deploy:check nats-config --write\` regenerates it; a test fails while it differs.
server_name: $POD_NAME
listen: "0.0.0.0:4222"
http: "0.0.0.0:8222"
pid_file: "/var/run/nats/nats.pid"
lame_duck_duration: "30s"
# From heroagent.conf (the largest legitimate message, an audit export page, is under 1 MiB).
max_payload: ${source.maxPayload}

# Clients: TLS 1.3, the server's certificate from the internal CA (clients verify it), and each
# client's certificate from the same CA, required (verify). Who a client is, and what it may do,
# is its nkey's (the users below); the certificate only proves it came from inside.
tls {
  cert_file: "/etc/nats/tls/tls.crt"
  key_file: "/etc/nats/tls/tls.key"
  ca_file: "/etc/nats/tls/ca.crt"
  verify: true
  min_version: "1.3"
  timeout: 2
}

jetstream {
  store_dir: "/data/jetstream"
  max_memory_store: 256MB
  max_file_store: 8GB
  # Every write is on disk before it is acknowledged: the audit record must survive a node's crash
  # even before its replicas have it (at a cost in throughput; see docs/OPERATIONS.md).
  sync_interval: always
}

# The routes: mutual TLS, each node's certificate verified against the internal CA.
cluster {
  name: heroagent
  listen: "0.0.0.0:6222"
  routes: [
${routes}
  ]
  tls {
    cert_file: "/etc/nats/tls/tls.crt"
    key_file: "/etc/nats/tls/tls.key"
    ca_file: "/etc/nats/tls/ca.crt"
    verify: true
    min_version: "1.3"
    timeout: 2
  }
}

system_account: SYS
accounts {
  SYS {
    users = [{ user: ${SYSTEM_USER}, password: $${SYSTEM_PASSWORD_VARIABLE} }]
  }
  # The platform's one account: the users and permissions of deploy/nats/heroagent.conf, each user
  # known by its nkey (public keys from the ConfigMap ${NKEYS_CONFIGMAP}).
  HEROAGENT {
    jetstream: enabled
    users = ${source.nkeyUsersBlock}
  }
}
`;
}

/** The ConfigMap holding {@link renderNatsConfig}'s output. */
export function renderNatsConfigMap(config: string): string {
  const body = config
    .split('\n')
    .map((line) => (line === '' ? '' : `    ${line}`))
    .join('\n');
  return `# Generated by tools/deploy-check from deploy/nats/heroagent.conf: do not edit by hand.
apiVersion: v1
kind: ConfigMap
metadata:
  name: nats-config
  namespace: heroagent
  labels: { app.kubernetes.io/name: nats, app.kubernetes.io/part-of: heroagent }
data:
  nats.conf: |
${body.trimEnd()}
`;
}

/** Reads heroagent.conf and renders the ConfigMap as it should be committed. */
export async function generateNatsConfigMap(): Promise<{
  source: NatsPermissionSource;
  config: string;
  configMap: string;
}> {
  const source = extractPermissionSource(await readFile(NATS_CONFIG_SOURCE, 'utf8'));
  const config = renderNatsConfig(source);
  return { source, config, configMap: renderNatsConfigMap(config) };
}
