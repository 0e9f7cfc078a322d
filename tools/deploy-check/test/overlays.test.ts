import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubectlKustomize } from '../src/check-all.js';
import { DeployCheckError } from '../src/errors.js';
import {
  applyOperation,
  containersOf,
  objectId,
  podSpecOf,
  renderKustomization,
  type KubeObject,
} from '../src/kustomize.js';
import { K8S_DIR, OVERLAYS, type Overlay } from '../src/paths.js';
import { checkRules, looksSecret } from '../src/rules.js';
import { validateObjects } from '../src/validate.js';

const rendered = {} as Record<Overlay, KubeObject[]>;
beforeAll(async () => {
  for (const overlay of OVERLAYS)
    rendered[overlay] = await renderKustomization(join(K8S_DIR, 'overlays', overlay));
});
const copy = (overlay: Overlay) => structuredClone(rendered[overlay]);
const find = (objects: KubeObject[], kind: string, name: string) =>
  objects.find((object) => object.kind === kind && object.metadata.name === name)!;

describe.each(OVERLAYS)('the %s overlay', (overlay) => {
  it('validates against the Kubernetes, cert-manager and CloudNativePG API types', () => {
    expect(validateObjects(rendered[overlay])).toEqual([]);
  });

  it("keeps the platform's rules", () => {
    expect(checkRules(rendered[overlay], { production: overlay === 'production' })).toEqual([]);
  });

  it('renders as `kubectl kustomize` does (when kubectl is on PATH)', async (context) => {
    const text = await kubectlKustomize(join(K8S_DIR, 'overlays', overlay));
    if (text === undefined) return context.skip('kubectl is not on PATH');
    const theirs = parseAllDocuments(text).map((document) => document.toJS() as KubeObject);
    const byId = (objects: KubeObject[]) =>
      Object.fromEntries(objects.map((object) => [objectId(object), object]));
    expect(byId(rendered[overlay])).toEqual(byId(theirs));
  });
});

describe('the production overlay', () => {
  it('pins every service image by digest in its registry, with two replicas or more', () => {
    for (const service of ['gateway', 'agent', 'vault-proxy', 'audit']) {
      const deployment = find(rendered.production, 'Deployment', service);
      expect(String(containersOf(deployment)[0]!.image)).toMatch(
        new RegExp(`^registry\\.example\\.com/heroagent/${service}@sha256:[0-9a-f]{64}$`),
      );
      const hpa = find(rendered.production, 'HorizontalPodAutoscaler', service);
      expect((hpa.spec as { minReplicas: number }).minReplicas).toBeGreaterThanOrEqual(2);
    }
  });

  it('serves the public URL the Ingress answers on', () => {
    const gateway = find(rendered.production, 'Deployment', 'gateway');
    const env = containersOf(gateway)[0]!.env as Array<{ name: string; value?: string }>;
    const ingress = find(rendered.production, 'Ingress', 'gateway');
    const host = (ingress.spec as { rules: Array<{ host: string }> }).rules[0]!.host;
    expect(env.find((variable) => variable.name === 'PUBLIC_URL')?.value).toBe(`https://${host}`);
  });
});

describe('the checks reject a broken manifest', () => {
  const broken = (mutate: (objects: KubeObject[]) => void, overlay: Overlay = 'production') => {
    const objects = copy(overlay);
    mutate(objects);
    return [
      ...validateObjects(objects),
      ...checkRules(objects, { production: overlay === 'production' }),
    ];
  };
  const gatewayContainer = (objects: KubeObject[]) =>
    containersOf(find(objects, 'Deployment', 'gateway'))[0]!;

  it('a container running as root, writable or escalating', () => {
    const problems = broken((objects) => {
      const container = gatewayContainer(objects);
      container.securityContext = { allowPrivilegeEscalation: true };
      podSpecOf(find(objects, 'Deployment', 'gateway'))!.securityContext = { runAsUser: 0 };
    });
    expect(problems.join('\n')).toMatch(/runAsNonRoot/);
    expect(problems.join('\n')).toMatch(/readOnlyRootFilesystem/);
    expect(problems.join('\n')).toMatch(/allowPrivilegeEscalation/);
    expect(problems.join('\n')).toMatch(/drop ALL/);
    expect(problems.join('\n')).toMatch(/seccompProfile/);
  });

  it('an image on latest, or unpinned', () => {
    expect(
      broken((objects) => (gatewayContainer(objects).image = 'heroagent/gateway:latest')),
    ).toEqual([expect.stringMatching(/Deployment\/heroagent\/gateway: .*uses "latest"/)]);
    expect(broken((objects) => (gatewayContainer(objects).image = 'nats:2-alpine'))).toEqual([
      expect.stringMatching(/must be pinned/),
    ]);
  });

  it('a container without resources or probes', () => {
    const problems = broken((objects) => {
      delete gatewayContainer(objects).resources;
      delete gatewayContainer(objects).readinessProbe;
    });
    expect(problems).toContainEqual(expect.stringMatching(/resources\.limits\.memory/));
    expect(problems).toContainEqual(expect.stringMatching(/must have a readinessProbe/));
  });

  it('no default-deny NetworkPolicy, no PDB, no HPA', () => {
    const problems = broken((objects) => {
      for (const [kind, name] of [
        ['NetworkPolicy', 'default-deny'],
        ['PodDisruptionBudget', 'audit'],
        ['HorizontalPodAutoscaler', 'agent'],
      ] as const)
        objects.splice(objects.indexOf(find(objects, kind, name)), 1);
    });
    expect(problems).toEqual([
      expect.stringMatching(/Deployment\/heroagent\/agent: has no HorizontalPodAutoscaler/),
      expect.stringMatching(/Deployment\/heroagent\/audit: has no PodDisruptionBudget/),
      expect.stringMatching(/no default-deny policy/),
    ]);
  });

  it('a Kubernetes token mounted, or a shared service account', () => {
    const problems = broken((objects) => {
      podSpecOf(find(objects, 'Deployment', 'agent'))!.automountServiceAccountToken = true;
      podSpecOf(find(objects, 'Deployment', 'audit'))!.serviceAccountName = 'gateway';
    });
    expect(problems).toContainEqual(expect.stringMatching(/agent: automountServiceAccountToken/));
    expect(problems).toContainEqual(expect.stringMatching(/audit: must run as its own/));
  });

  it('a secret inlined in a value, or credentials in a URL', () => {
    const problems = broken((objects) => {
      const env = gatewayContainer(objects).env as Array<Record<string, unknown>>;
      env.push({ name: 'NATS_PASSWORD', value: 'hunter2hunter2hunter2' });
      env.push({ name: 'OTHER_URL', value: 'postgres://me:secret@db/x' });
    });
    expect(problems).toContainEqual(expect.stringMatching(/NATS_PASSWORD looks secret/));
    expect(problems).toContainEqual(expect.stringMatching(/OTHER_URL holds credentials/));
    expect(looksSecret('SECRETS_BACKEND')).toBe(false);
    expect(looksSecret('AUDIT_SECRETS_KEY')).toBe(true);
    expect(looksSecret('GATEWAY_SEALING_PUBLIC_KEY')).toBe(false);
  });

  it('one replica in production, an agent that may egress anywhere, a Secret in the manifests', () => {
    const problems = broken((objects) => {
      (
        find(objects, 'HorizontalPodAutoscaler', 'audit').spec as { minReplicas: number }
      ).minReplicas = 1;
      (find(objects, 'NetworkPolicy', 'agent-egress-model').spec as { egress: unknown[] }).egress =
        [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }];
      objects.push({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'oops', namespace: 'heroagent' },
        stringData: { password: 'x' },
      });
    });
    expect(problems).toContainEqual(expect.stringMatching(/audit: minReplicas must be at least 2/));
    expect(problems).toContainEqual(expect.stringMatching(/agent may not egress to 0\.0\.0\.0\/0/));
    expect(problems).toContainEqual(
      expect.stringMatching(/Secret\/heroagent\/oops: Secrets are not part/),
    );
  });

  it('fields of the wrong type, unknown CloudNativePG fields, unknown kinds', () => {
    const problems = broken((objects) => {
      (find(objects, 'Deployment', 'gateway').spec as Record<string, unknown>).replicas = 'two';
      (find(objects, 'Cluster', 'heroagent-pg').spec as Record<string, unknown>).instanecs = 3;
      objects.push({
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: 'w', namespace: 'heroagent' },
      });
    });
    expect(problems).toContainEqual(
      expect.stringMatching(/Deployment\/heroagent\/gateway: .*replicas must be integer/),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(
        /Cluster\/heroagent\/heroagent-pg: spec: Unrecognized key: "instanecs"/,
      ),
    );
    expect(problems).toContainEqual(expect.stringMatching(/Widget\/heroagent\/w: no schema/));
  });

  it('audit stream replicas that differ from the NATS nodes', () => {
    const problems = broken((objects) => {
      const env = containersOf(find(objects, 'Job', 'audit-stream-provision'))[0]!.env as Array<{
        name: string;
        value?: string;
      }>;
      env.find((variable) => variable.name === 'AUDIT_STREAM_REPLICAS')!.value = '1';
    });
    expect(problems).toEqual([expect.stringMatching(/AUDIT_STREAM_REPLICAS must equal/)]);
  });
});

describe('the renderer refuses what it does not do', () => {
  it('a failed test operation, a missing path, an unknown operation', () => {
    const object = { a: { b: [1, 2] } };
    expect(() => applyOperation(object, { op: 'test', path: '/a/b/0', value: 2 }, 'x')).toThrow(
      /PATCH_FAILED: x: test of \/a\/b\/0 failed/,
    );
    expect(() => applyOperation(object, { op: 'replace', path: '/a/c', value: 1 }, 'x')).toThrow(
      DeployCheckError,
    );
    expect(() => applyOperation(object, { op: 'move' as 'add', path: '/a/b/0' }, 'x')).toThrow(
      /KUSTOMIZE_UNSUPPORTED/,
    );
    applyOperation(object, { op: 'add', path: '/a/b/-', value: 3 }, 'x');
    applyOperation(object, { op: 'remove', path: '/a/b/0' }, 'x');
    expect(object).toEqual({ a: { b: [2, 3] } });
  });

  it('a directory without a kustomization', async () => {
    await expect(renderKustomization(join(K8S_DIR, 'examples'))).rejects.toThrow(
      /BAD_INPUT: .* cannot be read/,
    );
  });
});
