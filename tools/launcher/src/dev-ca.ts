import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
// The subpath, not the package's entry: the launcher need not load Nest to issue certificates.
import { issueCa, issueCertificate, opensslVersion } from '@heroagent/service/certificates';

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
  await opensslVersion().catch((error: unknown) => {
    throw new Error(
      'openssl is not on PATH: `pnpm start` makes its development CA with it. Install it ' +
        '(Debian/Ubuntu: `apt-get install openssl`), or start without TLS with HEROAGENT_TLS=off.',
      { cause: error },
    );
  });
  let created = false;
  const ca = await certificate(files.caFile);
  if (ca === undefined || !fresh(ca) || !(await exists(caKeyFile))) {
    await issueCa({
      certFile: files.caFile,
      keyFile: caKeyFile,
      commonName: 'HeroAgent development CA',
      days: 3650,
    });
    created = true;
  }
  const caCert = (await certificate(files.caFile))!;
  const leaves = [
    {
      certFile: files.serverCertFile,
      keyFile: files.serverKeyFile,
      usage: 'serverAuth',
      commonName: 'localhost',
      subjectAltName: SERVER_NAMES,
    },
    {
      certFile: files.clientCertFile,
      keyFile: files.clientKeyFile,
      usage: 'clientAuth',
      commonName: 'HeroAgent development services (NATS client)',
    },
  ] as const;
  for (const leaf of leaves) {
    const issued = await certificate(leaf.certFile);
    if (
      issued === undefined ||
      !fresh(issued) ||
      !issued.verify(caCert.publicKey) ||
      !(await exists(leaf.keyFile))
    ) {
      await issueCertificate({
        ...leaf,
        ca: { certFile: files.caFile, keyFile: caKeyFile },
        days: 365,
      });
      created = true;
    }
  }
  return { ...files, created };
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
