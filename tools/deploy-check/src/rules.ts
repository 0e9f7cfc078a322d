import { containersOf, objectId, podSpecOf, splitImage, type KubeObject } from './kustomize.js';

/** The platform's four services: each a Deployment, ServiceAccount, PDB and HPA of that name. */
export const SERVICES = ['gateway', 'agent', 'vault-proxy', 'audit'] as const;
export const NAMESPACE = 'heroagent';
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'Job', 'CronJob', 'DaemonSet']);
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterIssuer', 'ClusterRole', 'ClusterRoleBinding']);
const SECRET_WORDS = new Set([
  'PASSWORD',
  'PASSPHRASE',
  'SECRET',
  'TOKEN',
  'CREDENTIAL',
  'CREDENTIALS',
]);
/** Whether a variable's name says it holds a secret: its value must then come from a Secret. */
export function looksSecret(variable: string): boolean {
  const words = variable.toUpperCase().split('_');
  if (words.some((word) => SECRET_WORDS.has(word))) return true;
  return words.at(-1) === 'KEY' && words.at(-2) !== 'PUBLIC';
}
/** An exact version: major.minor (Postgres' own versions) or major.minor.patch, with a suffix. */
const PINNED_TAG = /^v?\d+\.\d+(\.\d+)?([.-][0-9A-Za-z.-]+)?$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

type Json = Record<string, unknown>;
const textOf = (value: unknown): string => (typeof value === 'string' ? value : '');
const get = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>(
    (node, key) => (typeof node === 'object' && node !== null ? (node as Json)[key] : undefined),
    value,
  );

/**
 * The platform's rules over one rendered overlay: Pod Security "restricted" everywhere, pinned
 * images, resources and probes, one service account per service and no Kubernetes token but
 * vault-proxy's, a PDB and an HPA per service (two replicas at least in production), default-deny
 * NetworkPolicies, secrets only by reference, and the replica counts the data layer needs.
 * Answers every problem found, each naming its object.
 */
export function checkRules(
  objects: readonly KubeObject[],
  options: { production: boolean },
): string[] {
  const problems: string[] = [];
  const problem = (object: KubeObject | string, text: string) =>
    problems.push(`${typeof object === 'string' ? object : objectId(object)}: ${text}`);
  const find = (kind: string, name: string) =>
    objects.find((object) => object.kind === kind && object.metadata.name === name);

  const namespace = find('Namespace', NAMESPACE);
  if (namespace === undefined) problem(`Namespace//${NAMESPACE}`, 'is missing');
  else if (namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'] !== 'restricted')
    problem(
      namespace,
      'must enforce Pod Security "restricted" (pod-security.kubernetes.io/enforce)',
    );

  for (const object of objects) {
    if (!CLUSTER_SCOPED.has(object.kind) && object.metadata.namespace !== NAMESPACE)
      problem(object, `must be in namespace ${NAMESPACE}`);
    if (object.kind === 'Secret')
      problem(
        object,
        'Secrets are not part of the manifests: create them apart (examples/secrets)',
      );
    if (object.kind === 'ServiceAccount' && object.automountServiceAccountToken !== false)
      problem(object, 'automountServiceAccountToken must be false');
    if (WORKLOADS.has(object.kind)) checkWorkload(object, problem);
  }

  for (const service of SERVICES) {
    const deployment = find('Deployment', service);
    if (deployment === undefined) {
      problem(`Deployment/${NAMESPACE}/${service}`, 'is missing');
      continue;
    }
    const podSpec = podSpecOf(deployment)!;
    if (podSpec.serviceAccountName !== service)
      problem(deployment, `must run as its own ServiceAccount "${service}"`);
    if (find('ServiceAccount', service) === undefined)
      problem(deployment, `its ServiceAccount "${service}" is missing`);
    const labels = (get(deployment, 'spec', 'template', 'metadata', 'labels') ?? {}) as Record<
      string,
      string
    >;
    const pdb = objects.find(
      (object) =>
        object.kind === 'PodDisruptionBudget' &&
        selects(get(object, 'spec', 'selector', 'matchLabels'), labels),
    );
    if (pdb === undefined) problem(deployment, 'has no PodDisruptionBudget selecting its pods');
    const hpa = objects.find(
      (object) =>
        object.kind === 'HorizontalPodAutoscaler' &&
        get(object, 'spec', 'scaleTargetRef', 'kind') === 'Deployment' &&
        get(object, 'spec', 'scaleTargetRef', 'name') === service,
    );
    if (hpa === undefined) problem(deployment, 'has no HorizontalPodAutoscaler');
    if (options.production) {
      if (Number(get(deployment, 'spec', 'replicas') ?? 1) < 2)
        problem(deployment, 'needs at least 2 replicas in production');
      if (hpa !== undefined && Number(get(hpa, 'spec', 'minReplicas') ?? 1) < 2)
        problem(hpa, 'minReplicas must be at least 2 in production');
    }
  }

  const denyAll = objects.find(
    (object) =>
      object.kind === 'NetworkPolicy' &&
      Object.keys((get(object, 'spec', 'podSelector') ?? { x: 1 }) as Json).length === 0 &&
      JSON.stringify([...((get(object, 'spec', 'policyTypes') as string[]) ?? [])].sort()) ===
        '["Egress","Ingress"]' &&
      get(object, 'spec', 'ingress') === undefined &&
      get(object, 'spec', 'egress') === undefined,
  );
  if (denyAll === undefined)
    problem(
      `NetworkPolicy/${NAMESPACE}/*`,
      'no default-deny policy (all pods, ingress and egress, no rules)',
    );
  for (const service of SERVICES) {
    const own = objects.filter(
      (object) =>
        object.kind === 'NetworkPolicy' &&
        get(object, 'spec', 'podSelector', 'matchLabels', 'app.kubernetes.io/name') === service,
    );
    if (own.length === 0)
      problem(`Deployment/${NAMESPACE}/${service}`, 'no NetworkPolicy names it');
  }
  // The untrusted agent reaches NATS and its model endpoint only: never "anywhere".
  for (const policy of objects.filter(
    (object) =>
      object.kind === 'NetworkPolicy' &&
      get(object, 'spec', 'podSelector', 'matchLabels', 'app.kubernetes.io/name') === 'agent',
  )) {
    if (JSON.stringify(get(policy, 'spec', 'egress') ?? []).includes('"0.0.0.0/0"'))
      problem(policy, 'the agent may not egress to 0.0.0.0/0');
    if ((get(policy, 'spec', 'ingress') as unknown[] | undefined)?.length)
      problem(policy, 'nothing may connect to the agent');
  }

  const ingresses = objects.filter((object) => object.kind === 'Ingress');
  for (const ingress of ingresses) {
    if (!(get(ingress, 'spec', 'tls') as unknown[] | undefined)?.length)
      problem(ingress, 'must terminate TLS (spec.tls)');
    const backends = JSON.stringify(get(ingress, 'spec', 'rules') ?? []).match(
      /"service":\{"name":"([^"]+)"/g,
    );
    if (backends?.some((backend) => !backend.endsWith('"gateway"')))
      problem(ingress, 'only the gateway may be reachable from the Ingress');
  }

  const nats = find('StatefulSet', 'nats');
  if (Number(get(nats, 'spec', 'replicas')) !== 3)
    problem(`StatefulSet/${NAMESPACE}/nats`, 'NATS must run 3 nodes (JetStream R3)');
  const postgres = find('Cluster', 'heroagent-pg');
  if (postgres !== undefined)
    checkImage(textOf(get(postgres, 'spec', 'imageName')), (text) => problem(postgres, text));
  if (Number(get(postgres, 'spec', 'instances')) !== 3)
    problem(`Cluster/${NAMESPACE}/heroagent-pg`, 'Postgres must run 3 instances');
  const provision = find('Job', 'audit-stream-provision');
  const replicas =
    provision && envOf(provision).find((env) => env.name === 'AUDIT_STREAM_REPLICAS');
  if (replicas?.value !== String(get(nats, 'spec', 'replicas')))
    problem(
      `Job/${NAMESPACE}/audit-stream-provision`,
      'AUDIT_STREAM_REPLICAS must equal the NATS nodes',
    );
  return problems;
}

function selects(selector: unknown, labels: Record<string, string>): boolean {
  if (typeof selector !== 'object' || selector === null) return false;
  const entries = Object.entries(selector as Record<string, string>);
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

function envOf(object: KubeObject): Array<{ name: string; value?: string; valueFrom?: unknown }> {
  return containersOf(object).flatMap(
    (container) => (container.env as Array<{ name: string; value?: string }> | undefined) ?? [],
  );
}

function checkWorkload(
  object: KubeObject,
  problem: (object: KubeObject, text: string) => void,
): void {
  const pod = podSpecOf(object);
  if (pod === undefined) return problem(object, 'has no pod template');
  const podSecurity = (pod.securityContext ?? {}) as Json;
  const isVaultProxy = object.kind === 'Deployment' && object.metadata.name === 'vault-proxy';
  if (pod.automountServiceAccountToken !== false && !isVaultProxy)
    problem(object, 'automountServiceAccountToken must be false (only vault-proxy needs a token)');
  for (const container of containersOf(object)) {
    const say = (text: string) => problem(object, `container ${String(container.name)}: ${text}`);
    const security = (container.securityContext ?? {}) as Json;
    const merged = { ...podSecurity, ...security };
    if (merged.runAsNonRoot !== true) say('must set runAsNonRoot: true');
    if (!(Number.isInteger(merged.runAsUser) && Number(merged.runAsUser) > 0))
      say('must run as a numeric non-root runAsUser');
    if (get(merged, 'seccompProfile', 'type') !== 'RuntimeDefault')
      say('must use seccompProfile RuntimeDefault');
    if (security.allowPrivilegeEscalation !== false)
      say('must set allowPrivilegeEscalation: false');
    if (security.readOnlyRootFilesystem !== true) say('must set readOnlyRootFilesystem: true');
    const drop = (get(security, 'capabilities', 'drop') ?? []) as string[];
    if (!drop.includes('ALL')) say('must drop ALL capabilities');
    if ((get(security, 'capabilities', 'add') as unknown[] | undefined)?.length)
      say('must add no capability');
    for (const kind of ['requests', 'limits'])
      for (const resource of ['cpu', 'memory'])
        if (get(container, 'resources', kind, resource) === undefined)
          say(`must set resources.${kind}.${resource}`);
    checkImage(textOf(container.image), say);
    if (object.kind === 'Deployment' || object.kind === 'StatefulSet') {
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'])
        if (container[probe] === undefined) say(`must have a ${probe}`);
    }
    for (const env of (container.env as Array<Json> | undefined) ?? []) {
      const variable = String(env.name);
      const value = env.value;
      if (typeof value !== 'string') continue;
      if (looksSecret(variable))
        say(`${variable} looks secret: it must come from a Secret (valueFrom), not a value`);
      const credentials = /:\/\/([^/@\s]*)@/.exec(value)?.[1];
      if (
        credentials !== undefined &&
        !/^(\$\([A-Z0-9_]+\)(:\$\([A-Z0-9_]+\))?)$/.test(credentials)
      )
        say(
          `${variable} holds credentials in its URL: reference them as $(VARIABLE) from a Secret`,
        );
    }
  }
}

/** An image must name a pinned version (x.y.z) or a digest; `latest` and bare names never pass. */
export function checkImage(image: string, say: (text: string) => void): void {
  const { repository, tag, digest } = splitImage(image);
  if (repository === '') return say('has no image');
  if (tag === 'latest') return say(`image ${image} uses "latest"`);
  if (digest !== undefined) {
    if (!DIGEST.test(digest)) say(`image ${image} has a malformed digest`);
    return;
  }
  if (tag === undefined || !PINNED_TAG.test(tag))
    say(`image ${image} must be pinned by an exact version tag (x.y or x.y.z) or a sha256 digest`);
}
