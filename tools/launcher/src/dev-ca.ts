import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The development CA's files in `<home>/tls`: the CA, one server certificate for every local
 * listener (NATS, Postgres, the gateway) naming localhost, 127.0.0.1 and ::1, and one client
 * certificate the services present to NATS (mutual TLS). Keys are mode 0600.
 */
export interface DevTls {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** Whether this start generated them. */
  readonly created: boolean;
}

const SERVER_NAMES = 'DNS:localhost,IP:127.0.0.1,IP:::1';
// A certificate that expires within this is issued again at start.
const RENEW_WITHIN_MS = 30 * 86_400_000;

/**
 * Loads or creates the development CA and its certificates with the `openssl` CLI (Node has no
 * X.509 issuing API). ECDSA P-256 keys; the CA lives 10 years, the others 1 year and are issued
 * again when they would expire within 30 days or no longer chain to the CA. For one developer
 * machine only: a deploy brings its own certificates (docs/tls.md).
 */
export async function loadOrCreateDevTls(home: string): Promise<DevTls> {
  const dir = join(home, 'tls');
  // 0711: the embedded Postgres runs as another user and must reach its key and pg_hba file.
  await mkdir(dir, { recursive: true, mode: 0o711 });
  await chmod(dir, 0o711);
  const files = {
    dir,
    caFile: join(dir, 'ca.crt'),
    serverCertFile: join(dir, 'server.crt'),
    serverKeyFile: join(dir, 'server.key'),
    clientCertFile: join(dir, 'client.crt'),
    clientKeyFile: join(dir, 'client.key'),
  };
  const caKeyFile = join(dir, 'ca.key');
  await openssl(['version']).catch((error: unknown) => {
    throw new Error(
      'openssl is not on PATH: `pnpm start` makes its development CA with it. Install it ' +
        '(Debian/Ubuntu: `apt-get install openssl`), or start without TLS with HEROAGENT_TLS=off.',
      { cause: error },
    );
  });
  let created = false;
  const ca = await certificate(files.caFile);
  if (ca === undefined || !fresh(ca) || !(await exists(caKeyFile))) {
    await issueCa(files.caFile, caKeyFile);
    created = true;
  }
  const caCert = (await certificate(files.caFile))!;
  for (const [cert, key, usage] of [
    [files.serverCertFile, files.serverKeyFile, 'serverAuth'],
    [files.clientCertFile, files.clientKeyFile, 'clientAuth'],
  ] as const) {
    const leaf = await certificate(cert);
    if (
      leaf === undefined ||
      !fresh(leaf) ||
      !leaf.verify(caCert.publicKey) ||
      !(await exists(key))
    ) {
      await issueLeaf({ caFile: files.caFile, caKeyFile, certFile: cert, keyFile: key, usage });
      created = true;
    }
  }
  return { ...files, created };
}

async function issueCa(certFile: string, keyFile: string): Promise<void> {
  await withConfig(
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      'CN = HeroAgent development CA',
      '[ca]',
      'basicConstraints = critical, CA:TRUE, pathlen:0',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
    ],
    (config) =>
      openssl([
        'req',
        '-x509',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '3650',
        '-config',
        config,
        '-extensions',
        'ca',
      ]),
  );
  await chmod(keyFile, 0o600);
}

async function issueLeaf(options: {
  caFile: string;
  caKeyFile: string;
  certFile: string;
  keyFile: string;
  usage: 'serverAuth' | 'clientAuth';
}): Promise<void> {
  const common =
    options.usage === 'serverAuth' ? 'localhost' : 'HeroAgent development services (NATS client)';
  await withConfig(
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      `CN = ${common}`,
      '[leaf]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      `extendedKeyUsage = ${options.usage}`,
      ...(options.usage === 'serverAuth' ? [`subjectAltName = ${SERVER_NAMES}`] : []),
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
    ],
    async (config, dir) => {
      const request = join(dir, 'leaf.csr');
      await openssl([
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        options.keyFile,
        '-out',
        request,
        '-config',
        config,
      ]);
      await openssl([
        'x509',
        '-req',
        '-in',
        request,
        '-CA',
        options.caFile,
        '-CAkey',
        options.caKeyFile,
        '-set_serial',
        `0x${randomBytes(16).toString('hex')}`,
        '-days',
        '365',
        '-sha256',
        '-extfile',
        config,
        '-extensions',
        'leaf',
        '-out',
        options.certFile,
      ]);
    },
  );
  await chmod(options.keyFile, 0o600);
}

// A config file of our own, so the system's openssl.cnf (its default extensions) plays no part.
async function withConfig(
  lines: string[],
  run: (configFile: string, dir: string) => Promise<unknown>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'heroagent-ca-'));
  try {
    const config = join(dir, 'openssl.cnf');
    await writeFile(config, `${lines.join('\n')}\n`, { mode: 0o600 });
    await run(config, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function openssl(args: string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('openssl', args);
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new Error(
      `openssl ${args[0]} failed${typeof stderr === 'string' && stderr !== '' ? `: ${stderr.trim()}` : ''}`,
      { cause: error },
    );
  }
}

async function certificate(file: string): Promise<X509Certificate | undefined> {
  try {
    return new X509Certificate(await readFile(file));
  } catch {
    return undefined;
  }
}

function fresh(cert: X509Certificate): boolean {
  return new Date(cert.validTo).getTime() - Date.now() > RENEW_WITHIN_MS;
}

async function exists(file: string): Promise<boolean> {
  return readFile(file).then(
    () => true,
    () => false,
  );
}
