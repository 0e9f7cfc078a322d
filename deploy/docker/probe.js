// Container probe of a HeroAgent service, installed in the image as /app/probe.mjs (Docker HEALTHCHECK, Kubernetes exec probes):
//   node /app/probe.mjs ready   exit 0 when the service can do its work, 1 otherwise
//   node /app/probe.mjs live    exit 0 while the service process is alive
// The gateway is asked over HTTP (/readyz, /healthz). agent, vault-proxy and audit serve NATS only:
// their health RPC answers the gateway's identity alone and they have no HTTP port, so "ready" here
// is what their health report checks that a second process can: the service's own NATS user and
// its own database role reach their servers (deploy/docker is not the place to add an endpoint:
// docs/OPERATIONS.md names the change that would let the probe ask the running process itself).
// Plain JavaScript with two imports, so a probe costs a short node start, not the service's boot.
import { readFile } from 'node:fs/promises';

const TIMEOUT_MS = 8_000;
const service = process.env.HEROAGENT_SERVICE ?? '';
const mode = process.argv[2] ?? '';

function fail(reason) {
  process.stderr.write(`[probe] ${service || '?'} ${mode || '?'}: ${reason}\n`);
  process.exit(1);
}

async function httpOk(path) {
  const port = Number(process.env.HTTP_PORT ?? '8080');
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (response.status !== 200) fail(`${path} answered ${response.status}`);
}

async function processAlive() {
  // PID 1 is the service (the image's CMD); a zombie or stopped process is not alive.
  const stat = await readFile('/proc/1/stat', 'utf8');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (state === 'Z' || state === 'T' || state === 'X') fail(`process 1 is in state ${state}`);
}

async function natsReachable() {
  const { connect } = await import('@nats-io/transport-node');
  const servers = (process.env.NATS_URL ?? '').split(',').map((server) => server.trim());
  if (servers[0] === '') fail('NATS_URL is not set');
  const connection = await connect({
    servers,
    name: `heroagent-${service}-probe`,
    ...(process.env.NATS_USER ? { user: process.env.NATS_USER } : {}),
    ...(process.env.NATS_PASSWORD ? { pass: process.env.NATS_PASSWORD } : {}),
    timeout: TIMEOUT_MS,
    maxReconnectAttempts: 0,
    // The probe never subscribes; its inbox prefix is the user's own, as the service's is.
    ...(process.env.NATS_USER ? { inboxPrefix: `_INBOX.${process.env.NATS_USER}` } : {}),
  });
  try {
    await connection.flush();
  } finally {
    await connection.close();
  }
}

async function postgresReachable() {
  const { createDatabase, pingDatabase } = await import('@heroagent/db');
  if (!process.env.DATABASE_URL) fail('DATABASE_URL is not set');
  const db = createDatabase({
    connectionString: process.env.DATABASE_URL,
    applicationName: `heroagent-${service}-probe`,
    maxConnections: 1,
  });
  try {
    await pingDatabase(db);
  } finally {
    await db.destroy();
  }
}

const probes = {
  gateway: { ready: () => httpOk('/readyz'), live: () => httpOk('/healthz') },
  nats: {
    ready: () => Promise.all([natsReachable(), postgresReachable()]),
    live: () => processAlive(),
  },
};

const kind =
  service === 'gateway'
    ? 'gateway'
    : ['agent', 'vault-proxy', 'audit'].includes(service)
      ? 'nats'
      : undefined;
if (kind === undefined) fail('HEROAGENT_SERVICE must be gateway, agent, vault-proxy or audit');
if (mode !== 'ready' && mode !== 'live') fail('usage: node probe.mjs ready|live');
const deadline = setTimeout(() => fail(`no answer within ${TIMEOUT_MS} ms`), TIMEOUT_MS + 1_000);
try {
  await probes[kind][mode]();
  clearTimeout(deadline);
  process.exit(0);
} catch (error) {
  // Only the first line: a driver's message can carry a connection string.
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  fail(reason.replace(/\/\/[^@\s]*@/g, '//').slice(0, 200));
}
