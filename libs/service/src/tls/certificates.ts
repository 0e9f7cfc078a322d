import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// X.509 issuance with the `openssl` CLI (Node has no API to issue certificates): the launcher's
// development CA and the tests' CAs and leaves. ECDSA P-256 keys, written mode 0600.

/** Why openssl did not issue: it is not on PATH, or it ran and failed. */
export type OpensslErrorCode = 'OPENSSL_MISSING' | 'OPENSSL_FAILED';

/** An `openssl` run that did not succeed; the message carries openssl's stderr. */
export class OpensslError extends Error {
  constructor(
    readonly code: OpensslErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'OpensslError';
  }
}

/** A certificate and its private key, as PEM files. */
export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** A self-signed CA: it may sign leaves only (pathlen 0). */
export interface CaRequest extends CertificateFiles {
  readonly commonName: string;
  readonly days: number;
}

/** A leaf certificate signed by `ca`, for a server or a client. */
export interface CertificateRequest extends CertificateFiles {
  readonly ca: CertificateFiles;
  readonly commonName: string;
  readonly usage: 'serverAuth' | 'clientAuth';
  /** In openssl's syntax, e.g. `DNS:localhost,IP:127.0.0.1`. */
  readonly subjectAltName?: string;
  readonly days: number;
}

const EC_P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Issues a self-signed CA certificate and its key. */
export async function issueCa(request: CaRequest): Promise<void> {
  await issueWith(
    request,
    [
      ...subject(request.commonName),
      '[extensions]',
      'basicConstraints = critical, CA:TRUE, pathlen:0',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
    ],
    (config, issued) =>
      openssl([
        'req',
        '-x509',
        '-new',
        ...EC_P256,
        '-keyout',
        issued.keyFile,
        '-out',
        issued.certFile,
        '-days',
        String(request.days),
        '-config',
        config,
        '-extensions',
        'extensions',
      ]),
  );
}

/** Issues a certificate and its key, signed by the CA in `request.ca`. */
export async function issueCertificate(request: CertificateRequest): Promise<void> {
  await issueWith(
    request,
    [
      ...subject(request.commonName),
      '[extensions]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      `extendedKeyUsage = ${request.usage}`,
      ...(request.subjectAltName === undefined
        ? []
        : [`subjectAltName = ${request.subjectAltName}`]),
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
    ],
    async (config, issued, dir) => {
      const csr = join(dir, 'leaf.csr');
      await openssl([
        'req',
        '-new',
        ...EC_P256,
        '-keyout',
        issued.keyFile,
        '-out',
        csr,
        '-config',
        config,
      ]);
      await openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        request.ca.certFile,
        '-CAkey',
        request.ca.keyFile,
        '-set_serial',
        `0x${randomBytes(16).toString('hex')}`,
        '-days',
        String(request.days),
        '-sha256',
        '-extfile',
        config,
        '-extensions',
        'extensions',
        '-out',
        issued.certFile,
      ]);
    },
  );
}

/** `openssl version`: resolves if openssl is on PATH and runs. */
export function opensslVersion(): Promise<string> {
  return openssl(['version']);
}

function subject(commonName: string): string[] {
  return ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', `CN = ${commonName}`];
}

// A config file of our own, so the system's openssl.cnf (its default extensions) plays no part.
// openssl writes into a private temporary folder; only a complete pair is copied to its place,
// so a failed run leaves no key without its certificate.
async function issueWith(
  to: CertificateFiles,
  lines: string[],
  run: (configFile: string, issued: CertificateFiles, dir: string) => Promise<unknown>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'heroagent-ca-'));
  try {
    const config = join(dir, 'openssl.cnf');
    await writeFile(config, `${lines.join('\n')}\n`, { mode: 0o600 });
    const issued = { certFile: join(dir, 'issued.crt'), keyFile: join(dir, 'issued.key') };
    await run(config, issued, dir);
    await copyFile(issued.keyFile, to.keyFile);
    await chmod(to.keyFile, 0o600);
    await copyFile(issued.certFile, to.certFile);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function openssl(args: string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('openssl', args);
    return stdout;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT')
      throw new OpensslError('OPENSSL_MISSING', 'openssl is not on PATH', { cause: error });
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new OpensslError(
      'OPENSSL_FAILED',
      `openssl ${args[0]} failed${typeof stderr === 'string' && stderr !== '' ? `: ${stderr.trim()}` : ''}`,
      { cause: error },
    );
  }
}
