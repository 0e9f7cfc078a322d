import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import type { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '@heroagent/agent';
import { auditConfigSchema, auditProvisioningConfigSchema } from '@heroagent/audit';
import { GATEWAY_JOBS, gatewayConfigSchema } from '@heroagent/gateway';
import { ConfigError, migrateConfigSchema, parseConfig } from '@heroagent/service';
import { vaultProxyConfigSchema } from '@heroagent/vault-proxy';
import { containersOf, renderKustomization, type KubeObject } from '../src/kustomize.js';
import { K8S_DIR, OVERLAYS, type Overlay } from '../src/paths.js';
import {
  checkPodEnvironment,
  heroagentServiceOf,
  loadExampleObjects,
  podEnvironments,
  type PodEnvironment,
} from '../src/pod-env.js';

// Every container of every Deployment and Job of both overlays, with the environment the kubelet
// would give it, parsed by the service's own configuration schema (the one its process exits 78
// on). The schemas read the files they are given at parse time (PEM files, nkey seeds), so each
// file a variable names is written into a temporary folder, fake but of the right kind, once the
// volume it would come from has been traced to an existing Secret, ConfigMap or token.

/** The schema a HeroAgent container's process parses its environment with. */
function schemaOf(service: string, command: readonly string[] | undefined): z.ZodType {
  const entry = command?.at(-1);
  if (entry === 'dist/src/migrate.js')
    return migrateConfigSchema({
      schema: service.replace('-', '_'),
      jobs: service === 'gateway' ? GATEWAY_JOBS : [],
    });
  if (entry === 'dist/src/provision.js' && service === 'audit')
    return auditProvisioningConfigSchema;
  if (command !== undefined) throw new Error(`no schema known for ${service} ${command.join(' ')}`);
  return {
    gateway: gatewayConfigSchema,
    agent: agentConfigSchema,
    'vault-proxy': vaultProxyConfigSchema,
    audit: auditConfigSchema,
  }[service] as z.ZodType;
}

const base64url = (bytes: Buffer) => bytes.toString('base64url');
const ed25519Public = () =>
  generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string;

/**
 * Well-formed values for the example Secrets' and ConfigMaps' placeholders: the examples say
 * "EXAMPLE…" (they must), the schemas want keys. Only a placeholder is replaced.
 */
const FAKE_VALUES: Record<string, () => string> = {
  SERVICE_SIGNING_KEY: () => base64url(randomBytes(32)),
  SERVICE_SEALING_KEY: () => base64url(randomBytes(32)),
  AUDIT_SECRETS_KEY: () => base64url(randomBytes(32)),
  GATEWAY_SEALING_PUBLIC_KEY: () => base64url(randomBytes(32)),
  GATEWAY_VERIFY_KEYS: () => JSON.stringify([{ kid: 'k1', publicKey: ed25519Public() }]),
  AUDIT_TRUSTED_KEYS: () =>
    JSON.stringify([
      {
        kid: 'k1',
        service: 'gateway',
        publicKey: ed25519Public(),
        notBefore: '2026-01-01T00:00:00.000Z',
      },
    ]),
};
const PLACEHOLDER = /EXAMPLE/;

/** A file's fake content, by what the variable naming it expects. */
function fakeFile(variable: string): string {
  if (variable.endsWith('NKEY_SEED_FILE'))
    return `${new TextDecoder().decode(nkeys.createUser().getSeed())}\n`;
  if (variable === 'VAULT_K8S_JWT_FILE') return 'fake.jwt.token';
  const label = variable.endsWith('KEY_FILE') ? 'FAKE KEY FOR TESTS' : 'CERTIFICATE';
  return `-----BEGIN ${label}-----\nMA==\n-----END ${label}-----\n`;
}

let scratch: string;
let examples: KubeObject[];
const rendered = {} as Record<Overlay, KubeObject[]>;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'deploy-check-env-'));
  examples = await loadExampleObjects();
  for (const overlay of OVERLAYS)
    rendered[overlay] = await renderKustomization(join(K8S_DIR, 'overlays', overlay));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

let runs = 0;
/** The problems of one HeroAgent container: deploy/k8s's rules, then its schema's. */
async function problemsOf(environment: PodEnvironment): Promise<string[]> {
  const rules = checkPodEnvironment(environment);
  const service = heroagentServiceOf(environment.image)!;
  const env: Record<string, string> = { ...environment.env };
  for (const [name, value] of Object.entries(env)) {
    if (PLACEHOLDER.test(value) && FAKE_VALUES[name] !== undefined) env[name] = FAKE_VALUES[name]();
  }
  const root = join(scratch, String((runs += 1)));
  // A folder of the image, not of a volume: the Dockerfile copies the console to /app/console.
  if (env.CONSOLE_DIR !== undefined) {
    expect(env.CONSOLE_DIR).toBe('/app/console');
    env.CONSOLE_DIR = join(root, 'console');
    await mkdir(env.CONSOLE_DIR, { recursive: true });
    await writeFile(join(env.CONSOLE_DIR, 'index.html'), '<!doctype html>');
  }
  for (const file of environment.files) {
    const path = join(root, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, fakeFile(file.variable), { mode: 0o600 });
    env[file.variable] = path;
  }
  try {
    parseConfig(schemaOf(service, environment.command), env);
    return rules;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...rules, ...error.problems.map((problem) => `${environment.where}: ${problem}`)];
  }
}

const environmentsOf = (objects: KubeObject[]) => podEnvironments(objects, examples);
const heroagent = (environments: PodEnvironment[]) =>
  environments.filter((environment) => heroagentServiceOf(environment.image) !== undefined);
const find = (objects: KubeObject[], kind: string, name: string) =>
  objects.find((object) => object.kind === kind && object.metadata.name === name)!;
const envOf = (objects: KubeObject[], kind: string, name: string) =>
  containersOf(find(objects, kind, name))[0]!.env as Array<Record<string, unknown>>;

describe.each(OVERLAYS)('the %s overlay', (overlay) => {
  it("gives every HeroAgent container an environment its service's schema accepts in production", async () => {
    const environments = heroagent(environmentsOf(rendered[overlay]));
    expect(environments.map((environment) => environment.where).sort()).toEqual([
      'Deployment/heroagent/agent container agent',
      'Deployment/heroagent/audit container audit',
      'Deployment/heroagent/gateway container gateway',
      'Deployment/heroagent/vault-proxy container vault-proxy',
      'Job/heroagent/agent-migrate container migrate',
      'Job/heroagent/audit-migrate container migrate',
      'Job/heroagent/audit-stream-provision container provision',
      'Job/heroagent/gateway-migrate container migrate',
      'Job/heroagent/vault-proxy-migrate container migrate',
    ]);
    for (const environment of environments) expect(await problemsOf(environment)).toEqual([]);
  });

  it('traces every file to a Secret, ConfigMap or token that carries it', () => {
    const files = heroagent(environmentsOf(rendered[overlay])).flatMap((environment) =>
      environment.files.map((file) => `${file.variable} ${file.source} ${file.key}`),
    );
    expect(new Set(files)).toEqual(
      new Set([
        'DATABASE_TLS_CA_FILE Secret/heroagent-internal-ca ca.crt',
        'NATS_TLS_CA_FILE Secret/heroagent-internal-ca ca.crt',
        'NODE_EXTRA_CA_CERTS Secret/heroagent-internal-ca ca.crt',
        'HTTP_TLS_CERT_FILE Secret/gateway-http-tls tls.crt',
        'HTTP_TLS_KEY_FILE Secret/gateway-http-tls tls.key',
        ...['gateway', 'agent', 'vault-proxy', 'audit', 'provisioner'].flatMap((identity) => [
          `NATS_TLS_CERT_FILE Secret/heroagent-nats-client-${identity} tls.crt`,
          `NATS_TLS_KEY_FILE Secret/heroagent-nats-client-${identity} tls.key`,
          `NATS_NKEY_SEED_FILE Secret/heroagent-nats-nkeys ${identity}`,
        ]),
        'NATS_RELAY_NKEY_SEED_FILE Secret/heroagent-nats-nkeys gateway-relay',
        'VAULT_CACERT ConfigMap/heroagent-vault-ca ca.crt',
        'VAULT_K8S_JWT_FILE ServiceAccountToken token',
      ]),
    );
  });

  it('resolves the other containers’ references too (they run no HeroAgent schema)', () => {
    const others = environmentsOf(rendered[overlay]).filter(
      (environment) => heroagentServiceOf(environment.image) === undefined,
    );
    expect(others.map((environment) => environment.where).sort()).toEqual([
      'Deployment/heroagent/otel-collector container otel-collector',
      'Job/heroagent/postgres-schemas container psql',
    ]);
    expect(others.flatMap((environment) => environment.problems)).toEqual([]);
  });
});

describe('the check fails on a broken manifest', () => {
  const broken = async (mutate: (objects: KubeObject[]) => void) => {
    const objects = structuredClone(rendered.production);
    mutate(objects);
    const problems: string[] = [];
    for (const environment of heroagent(environmentsOf(objects)))
      problems.push(...(await problemsOf(environment)));
    return problems;
  };
  /** Exactly these problems, in any order. */
  const expectProblems = (problems: string[], patterns: RegExp[]) => {
    expect(problems).toHaveLength(patterns.length);
    for (const pattern of patterns)
      expect(problems.some((problem) => pattern.test(problem))).toBe(true);
  };
  const remove = (env: Array<Record<string, unknown>>, name: string) =>
    env.splice(
      env.findIndex((variable) => variable.name === name),
      1,
    );
  const set = (env: Array<Record<string, unknown>>, name: string, value: string) => {
    const found = env.find((variable) => variable.name === name);
    if (found === undefined) env.push({ name, value });
    else found.value = value;
  };

  it('a required variable missing: Postgres’ CA, NATS’ CA, the relay’s nkey', async () => {
    const problems = await broken((objects) => {
      remove(envOf(objects, 'Deployment', 'agent'), 'DATABASE_TLS_CA_FILE');
      remove(envOf(objects, 'Job', 'audit-migrate'), 'DATABASE_TLS_CA_FILE');
      remove(envOf(objects, 'Deployment', 'audit'), 'NATS_TLS_CA_FILE');
      remove(envOf(objects, 'Deployment', 'gateway'), 'NATS_RELAY_NKEY_SEED_FILE');
    });
    expectProblems(problems, [
      /agent container agent: DATABASE_TLS_CA_FILE: is required in production/,
      /audit container audit: NATS_TLS_CA_FILE: is required for TLS to NATS/,
      /gateway container gateway: NATS_RELAY_NKEY_SEED_FILE: is required with NATS_NKEY_SEED_FILE/,
      /audit-migrate container migrate: DATABASE_TLS_CA_FILE: is required in production/,
    ]);
  });

  it('a plaintext opt-out, even one the code would accept', async () => {
    const problems = await broken((objects) => {
      const env = envOf(objects, 'Deployment', 'vault-proxy');
      set(env, 'NATS_URL', 'nats://nats.heroagent.svc.cluster.local:4222');
      for (const name of ['NATS_TLS_CA_FILE', 'NATS_TLS_CERT_FILE', 'NATS_TLS_KEY_FILE'])
        remove(env, name);
      set(env, 'NATS_ALLOW_PLAINTEXT', 'true');
      set(envOf(objects, 'Deployment', 'gateway'), 'HTTP_BEHIND_TLS_PROXY', 'true');
    });
    expectProblems(problems, [
      /gateway: HTTP_BEHIND_TLS_PROXY=true: every hop is TLS/,
      /gateway: HTTP_BEHIND_TLS_PROXY: must not be true with HTTP_TLS_CERT_FILE/,
      /vault-proxy: NATS_ALLOW_PLAINTEXT=true: every hop is TLS/,
      /vault-proxy: NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE are required/,
    ]);
  });

  it('not in production, or NATS with a password instead of an nkey', async () => {
    const problems = await broken((objects) => {
      set(envOf(objects, 'Deployment', 'audit'), 'HEROAGENT_ENV', 'development');
      const env = envOf(objects, 'Job', 'audit-stream-provision');
      remove(env, 'NATS_NKEY_SEED_FILE');
      set(env, 'NATS_USER', 'provisioner');
    });
    expectProblems(problems, [
      /audit container audit: HEROAGENT_ENV must be production/,
      /provision: NATS_NKEY_SEED_FILE is required/,
      /provision: NATS_USER must not be set/,
    ]);
  });

  it('a file no volume holds, a key its Secret lacks, a Secret or ConfigMap that does not exist', async () => {
    const problems = await broken((objects) => {
      set(envOf(objects, 'Deployment', 'agent'), 'NATS_TLS_CA_FILE', '/tmp/ca.crt');
      set(envOf(objects, 'Deployment', 'audit'), 'DATABASE_TLS_CA_FILE', '/etc/elsewhere/ca.crt');
      const pod = find(objects, 'Deployment', 'vault-proxy').spec as {
        template: { spec: { volumes: Array<Record<string, unknown>> } };
      };
      const nkey = pod.template.spec.volumes.find((volume) => volume.name === 'nats-nkey')!;
      (nkey.secret as { items: Array<{ key: string }> }).items[0]!.key = 'vault';
      const vaultCa = pod.template.spec.volumes.find((volume) => volume.name === 'vault-ca')!;
      (vaultCa.configMap as { name: string }).name = 'heroagent-vault-ca-typo';
      envOf(objects, 'Deployment', 'gateway').push({
        name: 'EXTRA_SECRET',
        valueFrom: { secretKeyRef: { name: 'heroagent-missing', key: 'x' } },
      });
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /agent: NATS_TLS_CA_FILE: \/tmp\/ca.crt is under volume "tmp" \(emptyDir\), which holds no such file/,
        ),
        expect.stringMatching(
          /audit: DATABASE_TLS_CA_FILE: \/etc\/elsewhere\/ca.crt is under no volume/,
        ),
        expect.stringMatching(
          /vault-proxy: NATS_NKEY_SEED_FILE: Secret\/heroagent-nats-nkeys has no key "vault"/,
        ),
        expect.stringMatching(
          /vault-proxy: VAULT_CACERT: ConfigMap\/heroagent-vault-ca-typo does not exist/,
        ),
        expect.stringMatching(/gateway: EXTRA_SECRET: Secret\/heroagent-missing does not exist/),
      ]),
    );
  });
});
