import { X509Certificate } from 'node:crypto';
import { access, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCa, issueCertificate, opensslVersion } from './certificates.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

describe('certificates issued with the openssl CLI', () => {
  let dir: string;
  let ca: { certFile: string; keyFile: string };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certificates-spec-'));
    ca = { certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key') };
    await issueCa({ ...ca, commonName: 'Spec CA', days: 2 });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const read = async (file: string) => new X509Certificate(await readFile(file));
  const mode = async (file: string) => (await stat(file)).mode & 0o777;

  it('makes a self-signed P-256 CA, its key readable by its owner only', async () => {
    const cert = await read(ca.certFile);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=Spec CA');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(await mode(ca.keyFile)).toBe(0o600);
  });

  it('signs a server certificate for its names and a client certificate with the CA', async () => {
    const caCert = await read(ca.certFile);
    const server = { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') };
    const client = { certFile: join(dir, 'client.crt'), keyFile: join(dir, 'client.key') };
    await issueCertificate({
      ...server,
      ca,
      commonName: 'localhost',
      usage: 'serverAuth',
      subjectAltName: 'DNS:localhost,IP:127.0.0.1',
      days: 1,
    });
    await issueCertificate({ ...client, ca, commonName: 'a client', usage: 'clientAuth', days: 1 });
    const serverCert = await read(server.certFile);
    const clientCert = await read(client.certFile);
    expect(serverCert.ca).toBe(false);
    expect(serverCert.verify(caCert.publicKey)).toBe(true);
    expect(serverCert.checkHost('localhost')).toBe('localhost');
    expect(serverCert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(serverCert.keyUsage).toEqual([SERVER_AUTH]);
    expect(clientCert.verify(caCert.publicKey)).toBe(true);
    expect(clientCert.keyUsage).toEqual([CLIENT_AUTH]);
    expect(clientCert.subjectAltName).toBeUndefined();
    expect(await mode(server.keyFile)).toBe(0o600);
    expect(await mode(client.keyFile)).toBe(0o600);
  });

  it("refuses with OPENSSL_FAILED and openssl's reason when openssl fails, writing nothing", async () => {
    const certFile = join(dir, 'orphan.crt');
    await expect(
      issueCertificate({
        ca: { certFile: ca.certFile, keyFile: join(dir, 'missing.key') },
        certFile,
        keyFile: join(dir, 'orphan.key'),
        commonName: 'orphan',
        usage: 'serverAuth',
        days: 1,
      }),
    ).rejects.toMatchObject({ code: 'OPENSSL_FAILED', message: /^openssl x509 failed: / });
    await expect(access(certFile)).rejects.toThrow();
    await expect(access(join(dir, 'orphan.key'))).rejects.toThrow();
  });

  it('refuses with OPENSSL_MISSING when openssl is not on PATH, writing nothing', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(opensslVersion()).rejects.toMatchObject({ code: 'OPENSSL_MISSING' });
      await expect(
        issueCa({
          certFile: join(dir, 'none.crt'),
          keyFile: join(dir, 'none.key'),
          commonName: 'none',
          days: 1,
        }),
      ).rejects.toMatchObject({ code: 'OPENSSL_MISSING' });
    } finally {
      process.env.PATH = path;
    }
    await expect(access(join(dir, 'none.key'))).rejects.toThrow();
  });
});
