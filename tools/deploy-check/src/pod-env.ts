import { readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import {
  containersOf,
  objectId,
  parseObjects,
  podSpecOf,
  splitImage,
  type KubeObject,
} from './kustomize.js';
import { K8S_DIR } from './paths.js';

/** The example Secrets and ConfigMaps (deploy/k8s/examples/secrets), what an install creates apart. */
export async function loadExampleObjects(
  directory: string = join(K8S_DIR, 'examples', 'secrets'),
): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  for (const file of (await readdir(directory)).filter((name) => name.endsWith('.yaml')).sort()) {
    const path = join(directory, file);
    objects.push(...parseObjects(await readFile(path, 'utf8'), path));
  }
  return objects;
}

/** A file a variable names, traced to the volume and the object key that put it there. */
export interface PodFile {
  readonly variable: string;
  readonly path: string;
  readonly volume: string;
  /** `Secret/<name>`, `ConfigMap/<name>` or `ServiceAccountToken`. */
  readonly source: string;
  readonly key: string;
}

/** The environment one container of a rendered workload would start with. */
export interface PodEnvironment {
  /** `Kind/namespace/name container <name>`. */
  readonly where: string;
  readonly image: string;
  readonly command: readonly string[] | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly files: readonly PodFile[];
  /** What could not be resolved: a missing Secret, ConfigMap, key, volume or file. */
  readonly problems: readonly string[];
}

/** Variables naming a file the process reads: `*_FILE`, and the two that say so otherwise. */
export function isFileVariable(name: string): boolean {
  return name.endsWith('_FILE') || name === 'VAULT_CACERT' || name === 'NODE_EXTRA_CA_CERTS';
}

/** The keys cert-manager writes into a Certificate's Secret. */
const CERTIFICATE_KEYS = ['tls.crt', 'tls.key', 'ca.crt'];

type Json = Record<string, unknown>;
type KeyValues = Readonly<Record<string, string | undefined>>;

/** Where Secrets and ConfigMaps come from: the examples, the manifests, cert-manager. */
class Sources {
  readonly secrets = new Map<string, KeyValues>();
  readonly configMaps = new Map<string, KeyValues>();

  constructor(rendered: readonly KubeObject[], examples: readonly KubeObject[]) {
    for (const object of [...rendered, ...examples]) {
      if (object.kind === 'Secret') {
        this.secrets.set(object.metadata.name, {
          ...((object.data ?? {}) as KeyValues),
          ...((object.stringData ?? {}) as KeyValues),
        });
      } else if (object.kind === 'ConfigMap') {
        this.configMaps.set(object.metadata.name, (object.data ?? {}) as KeyValues);
      } else if (object.kind === 'Certificate') {
        // Its keys are files only: cert-manager writes them, nothing here knows their values.
        const name = (object.spec as { secretName?: string } | undefined)?.secretName;
        if (name !== undefined)
          this.secrets.set(
            name,
            Object.fromEntries(CERTIFICATE_KEYS.map((key) => [key, undefined])),
          );
      }
    }
  }

  of(kind: 'Secret' | 'ConfigMap', name: string): KeyValues | undefined {
    return (kind === 'Secret' ? this.secrets : this.configMaps).get(name);
  }
}

/**
 * The environment of every container of every Deployment and Job in a rendered overlay, as the
 * kubelet would build it: `envFrom` first, then `env` in order, `$(VAR)` expanded from what came
 * before, `secretKeyRef` and `configMapKeyRef` resolved from the example Secrets and ConfigMaps and
 * the rendered ones. Every file a variable names is traced to a mounted volume whose Secret,
 * ConfigMap or projected source exists and carries that key.
 */
export function podEnvironments(
  rendered: readonly KubeObject[],
  examples: readonly KubeObject[],
): PodEnvironment[] {
  const sources = new Sources(rendered, examples);
  const environments: PodEnvironment[] = [];
  for (const object of rendered) {
    if (object.kind !== 'Deployment' && object.kind !== 'Job') continue;
    const pod = podSpecOf(object) ?? {};
    for (const container of containersOf(object)) {
      environments.push(containerEnvironment(object, pod, container, sources));
    }
  }
  return environments;
}

function containerEnvironment(
  object: KubeObject,
  pod: Json,
  container: Json,
  sources: Sources,
): PodEnvironment {
  const where = `${objectId(object)} container ${String(container.name)}`;
  const problems: string[] = [];
  const env: Record<string, string> = {};
  for (const from of (container.envFrom as Json[] | undefined) ?? []) {
    const ref = (from.secretRef ?? from.configMapRef) as
      { name: string; optional?: boolean } | undefined;
    if (ref === undefined) continue;
    const kind = from.secretRef === undefined ? 'ConfigMap' : 'Secret';
    const values = sources.of(kind, ref.name);
    if (values === undefined) {
      if (ref.optional !== true) problems.push(`envFrom ${kind}/${ref.name} does not exist`);
      continue;
    }
    for (const [key, value] of Object.entries(values)) {
      if (value !== undefined)
        env[`${typeof from.prefix === 'string' ? from.prefix : ''}${key}`] = value;
    }
  }
  for (const variable of (container.env as Json[] | undefined) ?? []) {
    const name = String(variable.name);
    const value = resolveValue(name, variable, env, sources, problems);
    if (value !== undefined) env[name] = value;
  }
  const files: PodFile[] = [];
  for (const [variable, path] of Object.entries(env)) {
    if (!isFileVariable(variable)) continue;
    const file = traceFile(variable, path, pod, container, sources);
    if (typeof file === 'string') problems.push(`${variable}: ${file}`);
    else files.push(file);
  }
  return {
    where,
    image: typeof container.image === 'string' ? container.image : '',
    command: container.command as string[] | undefined,
    env,
    files,
    problems,
  };
}

function resolveValue(
  name: string,
  variable: Json,
  env: Readonly<Record<string, string>>,
  sources: Sources,
  problems: string[],
): string | undefined {
  if (typeof variable.value === 'string') {
    return variable.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (reference, referred) => {
      const known = env[referred as string];
      if (known === undefined)
        problems.push(`${name}: refers to $(${String(referred)}), not defined before it`);
      return known ?? reference;
    });
  }
  const from = variable.valueFrom as Json | undefined;
  const ref = (from?.secretKeyRef ?? from?.configMapKeyRef) as
    { name: string; key: string; optional?: boolean } | undefined;
  if (ref === undefined) {
    const field = (from?.fieldRef as { fieldPath?: string } | undefined)?.fieldPath;
    if (field !== undefined) return `<${field}>`;
    problems.push(`${name}: has neither a value nor a Secret or ConfigMap reference`);
    return undefined;
  }
  const kind = from?.secretKeyRef === undefined ? 'ConfigMap' : 'Secret';
  const values = sources.of(kind, ref.name);
  if (values === undefined || !Object.hasOwn(values, ref.key)) {
    if (ref.optional !== true)
      problems.push(
        `${name}: ${kind}/${ref.name} ${values === undefined ? 'does not exist' : `has no key "${ref.key}"`}`,
      );
    return undefined;
  }
  const value = values[ref.key];
  if (value === undefined)
    problems.push(`${name}: ${kind}/${ref.name} is cert-manager's: its keys are files, not values`);
  return value;
}

/** The volume and key a file path comes from, or why it comes from none. */
function traceFile(
  variable: string,
  path: string,
  pod: Json,
  container: Json,
  sources: Sources,
): PodFile | string {
  if (!posix.isAbsolute(path)) return `${path} is not an absolute path`;
  const mounts = ((container.volumeMounts as Json[] | undefined) ?? [])
    .map((mount) => ({ name: String(mount.name), at: String(mount.mountPath) }))
    .filter((mount) => path.startsWith(`${mount.at.replace(/\/$/, '')}/`))
    .sort((a, b) => b.at.length - a.at.length);
  const mount = mounts[0];
  if (mount === undefined) return `${path} is under no volume mounted in the container`;
  const relative = path.slice(mount.at.replace(/\/$/, '').length + 1);
  const volume = ((pod.volumes as Json[] | undefined) ?? []).find(
    (candidate) => candidate.name === mount.name,
  );
  if (volume === undefined) return `${path}: the pod has no volume "${mount.name}"`;
  const found = (kind: 'Secret' | 'ConfigMap', name: string, items: unknown) =>
    keyIn(kind, name, items, relative, sources);
  let result: { source: string; key: string } | string | undefined;
  if (volume.secret !== undefined) {
    const secret = volume.secret as { secretName: string; items?: unknown };
    result = found('Secret', secret.secretName, secret.items);
  } else if (volume.configMap !== undefined) {
    const configMap = volume.configMap as { name: string; items?: unknown };
    result = found('ConfigMap', configMap.name, configMap.items);
  } else if (volume.projected !== undefined) {
    for (const source of (volume.projected as { sources?: Json[] }).sources ?? []) {
      const token = source.serviceAccountToken as { path?: string } | undefined;
      if (token?.path === relative) result = { source: 'ServiceAccountToken', key: token.path };
      const secret = source.secret as { name: string; items?: unknown } | undefined;
      const configMap = source.configMap as { name: string; items?: unknown } | undefined;
      const inner =
        secret !== undefined
          ? found('Secret', secret.name, secret.items)
          : configMap !== undefined
            ? found('ConfigMap', configMap.name, configMap.items)
            : undefined;
      if (typeof inner === 'object') result = inner;
      else if (result === undefined && typeof inner === 'string') result = inner;
    }
    result ??= `${path}: no source of the projected volume "${mount.name}" puts it there`;
  } else {
    const type = Object.keys(volume).find((key) => key !== 'name') ?? 'unknown';
    result = `${path} is under volume "${mount.name}" (${type}), which holds no such file`;
  }
  if (typeof result === 'string') return result;
  return { variable, path, volume: mount.name, ...result };
}

/** The key of a Secret or ConfigMap a volume shows at `relative`, checked to exist. */
function keyIn(
  kind: 'Secret' | 'ConfigMap',
  name: string,
  items: unknown,
  relative: string,
  sources: Sources,
): { source: string; key: string } | string {
  const listed = items as Array<{ key: string; path: string }> | undefined;
  const key =
    listed === undefined
      ? relative.includes('/')
        ? undefined
        : relative
      : listed.find((item) => item.path === relative)?.key;
  if (key === undefined) return `${relative}: ${kind}/${name}'s volume shows no such file`;
  const values = sources.of(kind, name);
  if (values === undefined) return `${kind}/${name} does not exist`;
  if (!Object.hasOwn(values, key)) return `${kind}/${name} has no key "${key}"`;
  return { source: `${kind}/${name}`, key };
}

/** Opt-outs of TLS that no overlay of deploy/k8s may use: every hop is TLS 1.3. */
export const PLAINTEXT_OPT_OUTS = [
  'NATS_ALLOW_PLAINTEXT',
  'DATABASE_ALLOW_PLAINTEXT',
  'VAULT_ALLOW_HTTP',
  'HTTP_BEHIND_TLS_PROXY',
] as const;

/** A HeroAgent image (`[registry/]heroagent/<service>`), or undefined for anything else. */
export function heroagentServiceOf(image: string): string | undefined {
  return /(?:^|\/)heroagent\/(gateway|agent|vault-proxy|audit)$/.exec(
    splitImage(image).repository,
  )?.[1];
}

/**
 * deploy/k8s's own rules over a HeroAgent container's environment, beyond what its configuration
 * schema checks: production mode, no plaintext opt-out, and NATS as the generated server
 * configuration demands it (an nkey for the user, a client certificate for mutual TLS).
 */
export function checkPodEnvironment(environment: PodEnvironment): string[] {
  const problems = [...environment.problems];
  const env = environment.env;
  if (env.HEROAGENT_ENV !== 'production') problems.push('HEROAGENT_ENV must be production');
  for (const name of PLAINTEXT_OPT_OUTS) {
    if (env[name] === 'true') problems.push(`${name}=true: every hop is TLS in deploy/k8s`);
  }
  if (env.NATS_URL !== undefined) {
    if (env.NATS_NKEY_SEED_FILE === undefined)
      problems.push('NATS_NKEY_SEED_FILE is required: NATS knows its users by their nkeys');
    for (const name of ['NATS_USER', 'NATS_PASSWORD'])
      if (env[name] !== undefined)
        problems.push(`${name} must not be set: NATS knows its users by their nkeys`);
    if (env.NATS_TLS_CERT_FILE === undefined || env.NATS_TLS_KEY_FILE === undefined)
      problems.push(
        'NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE are required: NATS requires client certificates',
      );
  }
  return problems.map((problem) => `${environment.where}: ${problem}`);
}
