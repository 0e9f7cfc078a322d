import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { VaultDouble } from '@heroagent/doubles';
import { createLogger } from '@heroagent/telemetry';
// vault-proxy exports no entry for its Vault adapter; the test drives the adapter's own code, by
// path, so the paths checked are the ones it really requests (docs/OPERATIONS.md names the gap).
import { VaultConnection } from '../../../services/vault-proxy/src/secrets/vault/vault-connection.js';
import { VaultSecretsBackend } from '../../../services/vault-proxy/src/secrets/vault/vault-secrets-backend.js';
import { containersOf, podSpecOf, renderKustomization } from '../src/kustomize.js';
import { DEPLOY_DIR, K8S_DIR } from '../src/paths.js';
import {
  capabilitiesFor,
  parseVaultPolicy,
  policyPathMatches,
  type VaultCapability,
  type VaultPolicyRule,
} from '../src/vault-policy.js';

const POLICY_FILE = join(DEPLOY_DIR, 'vault', 'policies', 'heroagent-vault-proxy.hcl');
const ROLE_FILE = join(DEPLOY_DIR, 'vault', 'kubernetes-role.json');
const logger = createLogger({ service: 'deploy-check', level: 'silent' });

interface Request {
  readonly method: string;
  readonly path: string;
  readonly mayCreate: boolean;
}

/** Every request of the adapter that needs a policy (logins and sys/health need none). */
async function adapterRequests(): Promise<Request[]> {
  const vault = await VaultDouble.start();
  const dir = await mkdtemp(join(tmpdir(), 'deploy-check-vault-'));
  try {
    const mounts = { kv: 'heroagent-kv', transit: 'heroagent-transit' };
    const root = await VaultConnection.connect(
      {
        address: vault.address,
        timeoutMs: 2000,
        auth: { method: 'token', token: vault.rootToken },
        strictWarnings: true,
      },
      logger,
    );
    await root.call('POST', `sys/mounts/${mounts.kv}`, { type: 'kv', options: { version: '2' } });
    await root.call('POST', `sys/mounts/${mounts.transit}`, { type: 'transit' });
    await root.close();
    // Recorded with a policy that allows everything: what is requested, not what is allowed.
    vault.setPolicy('record-all', [
      { path: '*', capabilities: ['create', 'read', 'update', 'delete', 'list'] },
    ]);
    await writeFile(join(dir, 'token'), 'a-service-account-token');
    vault.addKubernetesRole('heroagent-vault-proxy', 'a-service-account-token', ['record-all']);
    const from = vault.requests.length;
    const connection = await VaultConnection.connect(
      {
        address: vault.address,
        timeoutMs: 2000,
        auth: {
          method: 'kubernetes',
          role: 'heroagent-vault-proxy',
          jwtFile: join(dir, 'token'),
          mount: 'kubernetes',
        },
        strictWarnings: true,
      },
      logger,
    );
    const backend = new VaultSecretsBackend(connection, mounts);
    const ref = { tenantId: 'tenant-1', connectionId: 'connection-1' };
    const person = { tenantId: 'tenant-1', scope: 'user' as const, id: 'person-1' };
    await backend.health();
    await backend.putRefreshToken(ref, 'refresh-1');
    await backend.putRefreshToken(ref, 'refresh-2');
    await backend.getRefreshToken(ref);
    await backend.deleteRefreshToken(ref);
    await backend.putRefreshToken(ref, 'refresh-3');
    await backend.deleteTenantSecrets('tenant-1');
    const key = await backend.createDataKey(person);
    await backend.openDataKey(person, key.wrapped);
    await backend.rotateKey(person);
    await backend.rewrapDataKey(person, key.wrapped);
    await backend.deleteKeys(person);
    await backend.createDataKey({ tenantId: 'tenant-1', scope: 'tenant', id: 'tenant-1' });
    await backend.deleteTenantKeys('tenant-1');
    // The renewal the connection schedules at two thirds of its token's TTL.
    await (connection as unknown as { renew(): Promise<void> }).renew();
    await backend.close();
    return vault.requests
      .slice(from)
      .filter(
        (request) => request.path !== 'sys/health' && !/^auth\/[^/]+\/login$/.test(request.path),
      )
      .map((request) => {
        const list = request.method === 'GET' && request.query.get('list') === 'true';
        return {
          method: list ? 'LIST' : request.method,
          // Vault adds the trailing slash to a LIST's path before it checks a policy.
          path: list ? `${request.path}/` : request.path,
          // KV v2 data and a Transit key name are created by their first write.
          mayCreate: /\/data\//.test(request.path) || /^[^/]+\/keys\/[^/]+$/.test(request.path),
        };
      });
  } finally {
    await vault.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** What the policy lacks for the requests, and what it grants that they never use. */
function comparePolicy(rules: readonly VaultPolicyRule[], requests: readonly Request[]): string[] {
  const problems: string[] = [];
  // A glob reaches paths the adapter never names: only whole segments may vary (`+`).
  for (const rule of rules)
    if (rule.path.includes('*'))
      problems.push(`${rule.path}: a glob grants more than the adapter's paths`);
  const used = new Map<string, Set<VaultCapability>>(rules.map((rule) => [rule.path, new Set()]));
  for (const request of requests) {
    const matching = rules.filter((rule) => policyPathMatches(rule.path, request.path));
    if (matching.length !== 1) {
      problems.push(
        `${request.method} ${request.path}: matched by ${matching.length} paths of the policy`,
      );
      continue;
    }
    const rule = matching[0]!;
    for (const capability of capabilitiesFor(request.method, request.mayCreate)) {
      if (!rule.capabilities.includes(capability))
        problems.push(`${request.method} ${request.path}: needs "${capability}" on ${rule.path}`);
      used.get(rule.path)!.add(capability);
    }
  }
  for (const rule of rules) {
    for (const capability of rule.capabilities)
      if (!used.get(rule.path)!.has(capability))
        problems.push(`${rule.path}: grants "${capability}", which the adapter never uses`);
  }
  return problems;
}

describe("vault-proxy's Vault policy", () => {
  let requests: Request[];
  let rules: VaultPolicyRule[];
  beforeAll(async () => {
    requests = await adapterRequests();
    rules = parseVaultPolicy(await readFile(POLICY_FILE, 'utf8'));
  });

  it('allows every path the adapter requests, and nothing it does not', () => {
    expect(requests.length).toBeGreaterThan(15);
    expect(comparePolicy(rules, requests)).toEqual([]);
  });

  it('is caught missing a path, or granting more', () => {
    const missing = rules.filter((rule) => !rule.path.endsWith('/rewrap/+'));
    expect(comparePolicy(missing, requests)).toEqual([
      expect.stringMatching(
        /^POST heroagent-transit\/rewrap\/u-tenant-1-person-1: matched by 0 paths/,
      ),
    ]);
    const broader = rules.map((rule) =>
      rule.path.endsWith('/decrypt/+')
        ? { ...rule, capabilities: [...rule.capabilities, 'read' as const] }
        : rule,
    );
    expect(comparePolicy(broader, requests)).toEqual([
      'heroagent-transit/decrypt/+: grants "read", which the adapter never uses',
    ]);
    const wildcard = [
      {
        path: 'heroagent-kv/*',
        capabilities: ['create', 'read', 'update', 'delete', 'list'] as VaultCapability[],
      },
      ...rules.filter((rule) => !rule.path.startsWith('heroagent-kv')),
    ];
    expect(comparePolicy(wildcard, requests).join('\n')).toMatch(
      /heroagent-kv\/\*: a glob grants more/,
    );
  });

  it('refuses policy text it does not understand', () => {
    expect(() =>
      parseVaultPolicy('path "a" { capabilities = ["read"] allowed_parameters = {} }'),
    ).toThrow(/POLICY_INVALID: unsupported policy text/);
    expect(() => parseVaultPolicy('path "a" { capabilities = ["rule-all"] }')).toThrow(
      /bad capability/,
    );
    expect(() => parseVaultPolicy('# nothing\n')).toThrow(/no path/);
  });

  it('matches paths as Vault does: + one segment, * a prefix', () => {
    expect(policyPathMatches('kv/data/+/x', 'kv/data/t1/x')).toBe(true);
    expect(policyPathMatches('kv/data/+/x', 'kv/data/t1/t2/x')).toBe(false);
    expect(policyPathMatches('kv/data/*', 'kv/data/t1/t2')).toBe(true);
    expect(policyPathMatches('kv/keys/', 'kv/keys')).toBe(false);
  });
});

describe('the Kubernetes auth role', () => {
  it("binds vault-proxy's service account alone, for Vault's audience, to this policy alone", async () => {
    const role = JSON.parse(await readFile(ROLE_FILE, 'utf8')) as Record<string, unknown>;
    expect(role.bound_service_account_names).toEqual(['vault-proxy']);
    expect(role.bound_service_account_namespaces).toEqual(['heroagent']);
    expect(role.token_policies).toEqual(['heroagent-vault-proxy']);
    expect(role.token_no_default_policy).toBe(true);
    const objects = await renderKustomization(join(K8S_DIR, 'base'));
    const deployment = objects.find(
      (object) => object.kind === 'Deployment' && object.metadata.name === 'vault-proxy',
    )!;
    const pod = podSpecOf(deployment)!;
    expect(pod.serviceAccountName).toBe('vault-proxy');
    const projected = JSON.stringify(pod.volumes);
    expect(projected).toContain(`"audience":"${String(role.audience)}"`);
    const env = Object.fromEntries(
      (containersOf(deployment)[0]!.env as Array<{ name: string; value?: string }>).map((entry) => [
        entry.name,
        entry.value,
      ]),
    );
    expect(env).toMatchObject({
      VAULT_AUTH_METHOD: 'kubernetes',
      VAULT_K8S_ROLE: 'heroagent-vault-proxy',
      VAULT_K8S_JWT_FILE: '/var/run/secrets/vault/token',
      VAULT_KV_MOUNT: 'heroagent-kv',
      VAULT_TRANSIT_MOUNT: 'heroagent-transit',
    });
  });
});
