import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  extractPermissionSource,
  generateNatsConfigMap,
  NATS_CONFIG_SOURCE,
  NATS_CONFIGMAP_FILE,
  SYSTEM_PASSWORD_VARIABLE,
  SYSTEM_USER,
} from '../src/nats-config.js';
import { containersOf, renderKustomization } from '../src/kustomize.js';
import { K8S_DIR } from '../src/paths.js';

const run = promisify(execFile);

describe('the Kubernetes NATS configuration', () => {
  it('is the one generated from deploy/nats/heroagent.conf', async () => {
    const { configMap } = await generateNatsConfigMap();
    expect(await readFile(NATS_CONFIGMAP_FILE, 'utf8')).toBe(configMap);
  });

  it("holds heroagent.conf's users, permissions and max_payload verbatim, in one account", async () => {
    const { source } = await generateNatsConfigMap();
    const committed = (
      parse(await readFile(NATS_CONFIGMAP_FILE, 'utf8')) as { data: Record<string, string> }
    ).data['nats.conf']!;
    expect(committed).toContain(`users = ${source.usersBlock}`);
    expect(committed).toContain(`max_payload: ${source.maxPayload}`);
    expect(source.users).toEqual([
      'gateway',
      'gateway-relay',
      'agent',
      'vault-proxy',
      'audit',
      'provisioner',
    ]);
    expect(committed.match(/jetstream: enabled/g)).toHaveLength(1);
  });

  it("gives nats-server every user's password, from the users' Secret", async () => {
    const { source } = await generateNatsConfigMap();
    const objects = await renderKustomization(join(K8S_DIR, 'base'));
    const nats = objects.find(
      (object) => object.kind === 'StatefulSet' && object.metadata.name === 'nats',
    )!;
    const env = containersOf(nats)[0]!.env as Array<{
      name: string;
      valueFrom?: { secretKeyRef?: { name: string; key: string } };
    }>;
    const users = [...source.users, SYSTEM_USER];
    const variables = [...source.passwordVariables, SYSTEM_PASSWORD_VARIABLE];
    for (const [index, variable] of variables.entries()) {
      expect(env.find((entry) => entry.name === variable)?.valueFrom?.secretKeyRef).toEqual({
        name: 'heroagent-nats-users',
        key: users[index],
      });
    }
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
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'tls.key'),
      '-out',
      join(dir, 'tls.crt'),
      '-days',
      '1',
      '-subj',
      '/CN=nats',
    ]);
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
        [...source.passwordVariables, SYSTEM_PASSWORD_VARIABLE].map((name) => [
          name,
          'ExamplePassword0000000000',
        ]),
      ),
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
