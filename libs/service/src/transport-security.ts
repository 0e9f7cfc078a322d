import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { DatabaseTls } from '@heroagent/db';

/** The lowest TLS version any HeroAgent client or server accepts, on every hop. */
export const TLS_MIN_VERSION = 'TLSv1.3';

const blankIsAbsent = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

/**
 * An optional path to a PEM file (a CA bundle, a certificate or a private key): checked readable
 * and PEM at boot, so a bad path stops the process naming the variable, not at the first connect.
 */
export const pemFileSchema = blankIsAbsent.refine((path) => {
  if (path === undefined) return true;
  try {
    return readFileSync(path, 'utf8').includes('-----BEGIN ');
  } catch {
    return false;
  }
}, 'must be a readable PEM file');

/** `true` or `false` (absent: false). */
export const flagSchema = z
  .enum(['true', 'false'])
  .default('false')
  .transform((value) => value === 'true');

/** The NATS connection's TLS variables (see docs/tls.md). */
export const natsTlsEnvShape = {
  /** The CA bundle that verifies the NATS servers' certificates; setting it turns TLS on. */
  NATS_TLS_CA_FILE: pemFileSchema,
  /** Verify the NATS servers against the system's trust store instead of NATS_TLS_CA_FILE. */
  NATS_TLS_SYSTEM_CA: flagSchema,
  /** The client certificate and key for mutual TLS (a server with `verify: true`). */
  NATS_TLS_CERT_FILE: pemFileSchema,
  NATS_TLS_KEY_FILE: pemFileSchema,
  /** In production, a NATS without TLS is refused unless this says it is meant. */
  NATS_ALLOW_PLAINTEXT: flagSchema,
};

/** Postgres TLS variables (see docs/tls.md). */
export const databaseTlsEnvShape = {
  /** The CA bundle that verifies Postgres's certificate (verify-full); setting it turns TLS on. */
  DATABASE_TLS_CA_FILE: pemFileSchema,
  /** In production, a Postgres without TLS is refused unless this says it is meant. */
  DATABASE_ALLOW_PLAINTEXT: flagSchema,
};

/** Where a refinement reports what is wrong (zod's refinement context). */
export interface IssueSink {
  addIssue(issue: { code: 'custom'; path: string[]; message: string }): void;
}

/** The NATS variables {@link checkNatsTls} reads. */
interface NatsTlsEnv {
  readonly NATS_URL: string;
  readonly NATS_TLS_CA_FILE?: string | undefined;
  readonly NATS_TLS_SYSTEM_CA: boolean;
  readonly NATS_TLS_CERT_FILE?: string | undefined;
  readonly NATS_TLS_KEY_FILE?: string | undefined;
  readonly NATS_ALLOW_PLAINTEXT: boolean;
}

/** Whether the NATS connection uses TLS: a `tls://` server, a CA, or a client certificate. */
export function natsUsesTls(env: NatsTlsEnv): boolean {
  return (
    env.NATS_TLS_CA_FILE !== undefined ||
    env.NATS_TLS_SYSTEM_CA ||
    env.NATS_TLS_CERT_FILE !== undefined ||
    env.NATS_URL.split(',').some((server) => server.trim().startsWith('tls://'))
  );
}

/**
 * The rules between the NATS TLS variables: a server is verified against a CA that is named
 * (NATS_TLS_CA_FILE) or explicitly the system's (NATS_TLS_SYSTEM_CA), a client certificate comes
 * with its key, and production refuses plain NATS unless NATS_ALLOW_PLAINTEXT says it is meant.
 */
export function checkNatsTls(env: NatsTlsEnv, production: boolean, sink: IssueSink): void {
  const issue = (path: string, message: string) =>
    sink.addIssue({ code: 'custom', path: [path], message });
  if ((env.NATS_TLS_CERT_FILE === undefined) !== (env.NATS_TLS_KEY_FILE === undefined)) {
    issue(
      env.NATS_TLS_CERT_FILE === undefined ? 'NATS_TLS_CERT_FILE' : 'NATS_TLS_KEY_FILE',
      `is required with ${env.NATS_TLS_CERT_FILE === undefined ? 'NATS_TLS_KEY_FILE' : 'NATS_TLS_CERT_FILE'}`,
    );
  }
  if (env.NATS_TLS_CA_FILE !== undefined && env.NATS_TLS_SYSTEM_CA) {
    issue('NATS_TLS_SYSTEM_CA', 'must not be true with NATS_TLS_CA_FILE: trust one or the other');
  }
  const tls = natsUsesTls(env);
  if (tls && env.NATS_TLS_CA_FILE === undefined && !env.NATS_TLS_SYSTEM_CA) {
    issue(
      'NATS_TLS_CA_FILE',
      'is required for TLS to NATS (a tls:// URL or a client certificate): the CA that verifies the server, or NATS_TLS_SYSTEM_CA=true for the system’s trust store',
    );
  }
  if (tls && env.NATS_ALLOW_PLAINTEXT) {
    issue('NATS_ALLOW_PLAINTEXT', 'must not be true when NATS uses TLS');
  }
  if (production && !tls && !env.NATS_ALLOW_PLAINTEXT) {
    issue(
      'NATS_URL',
      'must use TLS in production (tls:// with NATS_TLS_CA_FILE), or NATS_ALLOW_PLAINTEXT=true if plain NATS is meant',
    );
  }
}

const SSL_PARAMETERS = ['ssl', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'sslnegotiation'];

/** The `ssl…` parameters a Postgres URL carries (node-postgres would let them override ours). */
export function sslParametersOf(url: string): string[] {
  try {
    const parsed = new URL(url);
    return SSL_PARAMETERS.filter((name) => parsed.searchParams.has(name));
  } catch {
    return [];
  }
}

/**
 * The rules of the Postgres TLS variables for the URL variables named: TLS comes from
 * DATABASE_TLS_CA_FILE only (a URL's own `sslmode`, `sslrootcert`… are refused: node-postgres
 * reads them its own way and they would replace the verified settings), and production refuses
 * plain Postgres unless DATABASE_ALLOW_PLAINTEXT says it is meant.
 */
export function checkDatabaseTls(
  env: {
    readonly DATABASE_TLS_CA_FILE?: string | undefined;
    readonly DATABASE_ALLOW_PLAINTEXT: boolean;
  },
  urls: Readonly<Record<string, string | undefined>>,
  production: boolean,
  sink: IssueSink,
): void {
  for (const [name, url] of Object.entries(urls)) {
    const parameters = url === undefined ? [] : sslParametersOf(url);
    if (parameters.length > 0) {
      sink.addIssue({
        code: 'custom',
        path: [name],
        message: `must not carry ${parameters.join(', ')}: TLS to Postgres is set by DATABASE_TLS_CA_FILE (verify-full, TLS 1.3)`,
      });
    }
  }
  const tls = env.DATABASE_TLS_CA_FILE !== undefined;
  if (tls && env.DATABASE_ALLOW_PLAINTEXT) {
    sink.addIssue({
      code: 'custom',
      path: ['DATABASE_ALLOW_PLAINTEXT'],
      message: 'must not be true with DATABASE_TLS_CA_FILE',
    });
  }
  if (production && !tls && !env.DATABASE_ALLOW_PLAINTEXT) {
    sink.addIssue({
      code: 'custom',
      path: ['DATABASE_TLS_CA_FILE'],
      message:
        'is required in production (Postgres over verified TLS), or DATABASE_ALLOW_PLAINTEXT=true if plain Postgres is meant',
    });
  }
}

/** The TLS settings of a Postgres connection from DATABASE_TLS_CA_FILE (read now), or none. */
export function databaseTlsFrom(caFile: string | undefined): DatabaseTls | undefined {
  return caFile === undefined ? undefined : { ca: readFileSync(caFile) };
}
