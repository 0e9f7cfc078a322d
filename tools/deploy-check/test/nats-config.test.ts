import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { nkeys } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  extractPermissionSource,
  generateNatsConfigMap,
  NATS_CONFIG_SOURCE,
  NATS_CONFIGMAP_FILE,
  NKEYS_CONFIGMAP,
  SYSTEM_PASSWORD_VARIABLE,
  SYSTEM_SECRET,
} from '../src/nats-config.js';
import { natsNkeyVariable, type NatsIdentity } from '@heroagent/service';
import { issueCa } from '@heroagent/service/certificates';
import { containersOf, renderKustomization } from '../src/kustomize.js';
import { K8S_DIR } from '../src/paths.js';

const run = promisify(execFile);

describe('the Kubernetes NATS configuration', () => {
  it('is the one generated from deploy/nats/heroagent.conf', async () => {
    const { configMap } = await generateNatsConfigMap();
    expect(await readFile(NATS_CONFIGMAP_FILE, 'utf8')).toBe(configMap);
  });

  it("holds heroagent.conf's users and permissions, each known by its nkey, in one account", async () => {
    const { source } = await generateNatsConfigMap();
    const committed = (
      parse(await readFile(NATS_CONFIGMAP_FILE, 'utf8')) as { data: Record<string, string> }
    ).data['nats.conf']!;
    expect(committed).toContain(`users = ${source.nkeyUsersBlock}`);
    expect(committed).toContain(`max_payload: ${source.maxPayload}`);
    expect(source.users).toEqual([
      'gateway',
      'gateway-relay',
      'agent',
      'vault-proxy',
      'audit',
      'provisioner',
    ]);
    // Only the credential lines differ: every permission line is heroagent.conf's.
    const withoutCredentials = (block: string) =>
      block
        .split('\n')
        .filter((line) => !/^\s*(user|password|nkey):|NATS user ".*", known by its nkey/.test(line))
        .join('\n');
    expect(withoutCredentials(source.nkeyUsersBlock)).toBe(withoutCredentials(source.usersBlock));
    expect(source.nkeyUsersBlock).not.toMatch(/^\s*(user|password):/m);
    expect(source.nkeyVariables).toEqual(
      source.users.map((user) => natsNkeyVariable(user as NatsIdentity)),
    );
    expect(committed.match(/jetstream: enabled/g)).toHaveLength(1);
    // Client certificates are required on the client port, not only on the routes.
    expect(committed.match(/verify: true/g)).toHaveLength(2);
  });

  it("gives nats-server every user's public nkey, and the system user's password", async () => {
    const { source } = await generateNatsConfigMap();
    const objects = await renderKustomization(join(K8S_DIR, 'base'));
    const nats = objects.find(
      (object) => object.kind === 'StatefulSet' && object.metadata.name === 'nats',
    )!;
    const env = containersOf(nats)[0]!.env as Array<{
      name: string;
      valueFrom?: {
        secretKeyRef?: { name: string; key: string };
        configMapKeyRef?: { name: string; key: string };
      };
    }>;
    for (const [index, variable] of source.nkeyVariables.entries()) {
      expect(env.find((entry) => entry.name === variable)?.valueFrom?.configMapKeyRef).toEqual({
        name: NKEYS_CONFIGMAP,
        key: source.users[index],
      });
    }
    expect(
      env.find((entry) => entry.name === SYSTEM_PASSWORD_VARIABLE)?.valueFrom?.secretKeyRef,
    ).toEqual({ name: SYSTEM_SECRET, key: 'password' });
    expect(env.map((entry) => entry.name).filter((name) => name.endsWith('_PASSWORD'))).toEqual([
      SYSTEM_PASSWORD_VARIABLE,
    ]);
  });

  it('refuses a source without users or max_payload', () => {
    expect(() => extractPermissionSource('authorization { users = [ { user: a } ] }\n')).toThrow(
      /NATS_CONFIG_INVALID: heroagent.conf sets no max_payload/,
    );
    expect(() => extractPermissionSource('max_payload: 1\n')).toThrow(/no `users = \[` list/);
    expect(() => extractPermissionSource('max_payload: 1\nusers = [ { user: a\n')).toThrow(
      /not closed/,
    );
    expect(() => extractPermissionSource('max_payload: 1\nusers = [\n{\nuser: a\n}\n]\n')).toThrow(
      /password: \$<VARIABLE>/,
    );
  });
});

// nats-server from Debian (2.9) parses the configuration as the cluster's (2.10) would, but for two
// settings it predates: `min_version` (TLS 1.3) and `sync_interval`. Those two lines are dropped
// for this check, and only for it.
const natsServer = await run('nats-server', ['--version']).then(
  () => true,
  () => false,
);
describe.skipIf(!natsServer)('nats-server', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deploy-check-nats-'));
    // Self-signed: the server's certificate is its own CA, enough for `nats-server -t`.
    await issueCa({
      certFile: join(dir, 'tls.crt'),
      keyFile: join(dir, 'tls.key'),
      commonName: 'nats',
      days: 1,
    });
    await writeFile(join(dir, 'ca.crt'), await readFile(join(dir, 'tls.crt')));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function test(config: string) {
    const file = join(dir, 'nats.conf');
    await writeFile(
      file,
      config
        .replaceAll('/etc/nats/tls/', `${dir}/`)
        .replaceAll('/data/jetstream', join(dir, 'js'))
        .replaceAll('/var/run/nats/', `${dir}/`)
        .split('\n')
        .filter((line) => !/^\s*(min_version|sync_interval):/.test(line))
        .join('\n'),
    );
    const { source } = await generateNatsConfigMap();
    const env = {
      ...process.env,
      POD_NAME: 'nats-0',
      ...Object.fromEntries(
        source.nkeyVariables.map((name) => [name, nkeys.createUser().getPublicKey()]),
      ),
      [SYSTEM_PASSWORD_VARIABLE]: 'ExamplePassword0000000000',
    };
    return run('nats-server', ['-t', '-c', file], { env });
  }

  it('accepts the generated configuration', async () => {
    const { config } = await generateNatsConfigMap();
    await expect(test(config)).resolves.toBeDefined();
  });

  it('and would refuse a broken one (the check can fail)', async () => {
    const { config } = await generateNatsConfigMap();
    await expect(
      test(config.replace('jetstream: enabled', 'jetstream: maybe-later {')),
    ).rejects.toThrow();
  });
  void NATS_CONFIG_SOURCE;
});
