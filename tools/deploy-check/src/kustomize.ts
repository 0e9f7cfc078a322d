import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DeployCheckError } from './errors.js';

/** A Kubernetes object as the manifests give it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & Record<
    string,
    unknown
  >;
  [field: string]: unknown;
}

/** The object's identity: `Kind/namespace/name`. */
export function objectId(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

interface PatchTarget {
  kind?: string;
  name?: string;
  labelSelector?: string;
}
interface JsonPatchOperation {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

// The subset of kustomize this repository uses; anything else is refused by name, so the renderer
// never silently differs from `kubectl kustomize`.
const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'images', 'patches']);

/**
 * Renders a kustomization directory as `kubectl kustomize` would for the features deploy/k8s uses:
 * `resources` (files and kustomization directories), `images` (newName, newTag, digest) and
 * `patches` with a target and inline JSON 6902 operations (add, replace, remove, test).
 */
export async function renderKustomization(directory: string): Promise<KubeObject[]> {
  const root = resolve(directory);
  const file = join(root, 'kustomization.yaml');
  const kustomization = parseSingle(await readText(file), file);
  for (const field of Object.keys(kustomization)) {
    if (!SUPPORTED.has(field))
      throw new DeployCheckError(
        'KUSTOMIZE_UNSUPPORTED',
        `${file}: "${field}" is not supported here (use resources, images and JSON 6902 patches)`,
      );
  }
  const objects: KubeObject[] = [];
  for (const entry of asArray<string>(kustomization.resources, `${file}: resources`)) {
    const path = join(root, entry);
    const info = await stat(path).catch(() => {
      throw new DeployCheckError('BAD_INPUT', `${file}: resource ${entry} does not exist`);
    });
    objects.push(
      ...(info.isDirectory()
        ? await renderKustomization(path)
        : parseObjects(await readText(path), path)),
    );
  }
  const seen = new Set<string>();
  for (const object of objects) {
    const id = objectId(object);
    if (seen.has(id)) throw new DeployCheckError('BAD_INPUT', `${file}: ${id} is defined twice`);
    seen.add(id);
  }
  for (const image of asArray<Record<string, string>>(kustomization.images, `${file}: images`)) {
    applyImage(objects, image, file);
  }
  for (const patch of asArray<Record<string, unknown>>(kustomization.patches, `${file}: patches`)) {
    applyPatch(objects, patch, file);
  }
  return objects;
}

async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => {
    throw new DeployCheckError('BAD_INPUT', `${path} cannot be read`);
  });
}

function asArray<T>(value: unknown, what: string): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new DeployCheckError('BAD_INPUT', `${what} must be a list`);
  return value as T[];
}

function parseSingle(text: string, file: string): Record<string, unknown> {
  const documents = parseAllDocuments(text);
  const first = documents[0];
  if (documents.length !== 1 || first === undefined || first.errors.length > 0) {
    throw new DeployCheckError('BAD_INPUT', `${file} is not one YAML document`);
  }
  const value: unknown = first.toJS();
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new DeployCheckError('BAD_INPUT', `${file} is not a YAML mapping`);
  return value as Record<string, unknown>;
}

/** Parses a multi-document YAML file of Kubernetes objects; every document must be one. */
export function parseObjects(text: string, file: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const [index, document] of parseAllDocuments(text).entries()) {
    if (document.errors.length > 0) {
      throw new DeployCheckError(
        'BAD_INPUT',
        `${file}, document ${index + 1}: ${document.errors[0]!.message.split('\n')[0]}`,
      );
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    const object = value as Partial<KubeObject>;
    if (
      typeof object.apiVersion !== 'string' ||
      typeof object.kind !== 'string' ||
      typeof object.metadata?.name !== 'string'
    ) {
      throw new DeployCheckError(
        'BAD_INPUT',
        `${file}, document ${index + 1}: not a Kubernetes object (apiVersion, kind, metadata.name)`,
      );
    }
    objects.push(object as KubeObject);
  }
  return objects;
}

/** Every container (and init container) of a workload, with where it sits. */
export function containersOf(object: KubeObject): Array<Record<string, unknown>> {
  const podSpec = podSpecOf(object);
  if (podSpec === undefined) return [];
  return [
    ...((podSpec.initContainers as Array<Record<string, unknown>> | undefined) ?? []),
    ...((podSpec.containers as Array<Record<string, unknown>> | undefined) ?? []),
  ];
}

/** The pod spec of a Deployment, StatefulSet, DaemonSet, Job or CronJob. */
export function podSpecOf(object: KubeObject): Record<string, unknown> | undefined {
  const spec = object.spec as Record<string, unknown> | undefined;
  if (spec === undefined) return undefined;
  if (object.kind === 'CronJob') {
    const job = (spec.jobTemplate as { spec?: { template?: { spec?: Record<string, unknown> } } })
      ?.spec;
    return job?.template?.spec;
  }
  return (spec.template as { spec?: Record<string, unknown> } | undefined)?.spec;
}

function applyImage(objects: KubeObject[], image: Record<string, string>, file: string): void {
  const name = image.name;
  if (typeof name !== 'string')
    throw new DeployCheckError('BAD_INPUT', `${file}: an images entry has no name`);
  for (const object of objects) {
    for (const container of containersOf(object)) {
      const current = typeof container.image === 'string' ? container.image : '';
      const { repository, tag, digest } = splitImage(current);
      if (repository !== name) continue;
      const newRepository = image.newName ?? repository;
      if (image.digest !== undefined) container.image = `${newRepository}@${image.digest}`;
      else if (image.newTag !== undefined) container.image = `${newRepository}:${image.newTag}`;
      else
        container.image = `${newRepository}${digest === undefined ? (tag === undefined ? '' : `:${tag}`) : `@${digest}`}`;
    }
  }
}

/** `registry/name:tag@digest` in parts. */
export function splitImage(image: string): {
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
} {
  const [withTag, digest] = image.split('@') as [string, string | undefined];
  const lastSlash = withTag.lastIndexOf('/');
  const colon = withTag.indexOf(':', lastSlash + 1);
  return colon === -1
    ? { repository: withTag, tag: undefined, digest }
    : { repository: withTag.slice(0, colon), tag: withTag.slice(colon + 1), digest };
}

function applyPatch(objects: KubeObject[], patch: Record<string, unknown>, file: string): void {
  if (patch.path !== undefined)
    throw new DeployCheckError(
      'KUSTOMIZE_UNSUPPORTED',
      `${file}: patches from files are not supported here; write the JSON 6902 operations inline`,
    );
  const target = patch.target as PatchTarget | undefined;
  if (target === undefined || (target.kind === undefined && target.name === undefined))
    throw new DeployCheckError('BAD_INPUT', `${file}: a patch needs a target (kind and/or name)`);
  if (typeof patch.patch !== 'string')
    throw new DeployCheckError('BAD_INPUT', `${file}: a patch needs inline operations (patch: |)`);
  const documents = parseAllDocuments(patch.patch);
  const operations: unknown = documents[0]?.toJS();
  if (!Array.isArray(operations))
    throw new DeployCheckError(
      'KUSTOMIZE_UNSUPPORTED',
      `${file}: only JSON 6902 patches (a list of operations) are supported here`,
    );
  const selected = objects.filter((object) => matches(object, target));
  if (selected.length === 0)
    throw new DeployCheckError(
      'PATCH_FAILED',
      `${file}: the patch target ${JSON.stringify(target)} matches no object`,
    );
  for (const object of selected) {
    for (const operation of operations as JsonPatchOperation[]) {
      applyOperation(object, operation, `${file} on ${objectId(object)}`);
    }
  }
}

function matches(object: KubeObject, target: PatchTarget): boolean {
  if (target.kind !== undefined && object.kind !== target.kind) return false;
  if (target.name !== undefined && object.metadata.name !== target.name) return false;
  if (target.labelSelector !== undefined) {
    for (const term of target.labelSelector.split(',')) {
      const [key, value] = term.split('=').map((part) => part.trim());
      if (key === undefined || value === undefined)
        throw new DeployCheckError(
          'KUSTOMIZE_UNSUPPORTED',
          `labelSelector "${target.labelSelector}": only key=value terms are supported here`,
        );
      if (object.metadata.labels?.[key] !== value) return false;
    }
  }
  return true;
}

/** Applies one RFC 6902 operation in place. */
export function applyOperation(root: unknown, operation: JsonPatchOperation, where: string): void {
  if (typeof operation?.path !== 'string' || !operation.path.startsWith('/'))
    throw new DeployCheckError(
      'PATCH_FAILED',
      `${where}: an operation needs a path starting with /`,
    );
  const tokens = operation.path
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
  const last = tokens.pop()!;
  let parent: unknown = root;
  for (const token of tokens) {
    parent = child(parent, token);
    if (parent === undefined)
      throw new DeployCheckError('PATCH_FAILED', `${where}: ${operation.path} does not exist`);
  }
  const container = parent as Record<string, unknown> | unknown[];
  const exists = Array.isArray(container)
    ? last === '-' || Number(last) < container.length
    : Object.hasOwn(container, last);
  switch (operation.op) {
    case 'test':
      if (JSON.stringify(child(container, last)) !== JSON.stringify(operation.value))
        throw new DeployCheckError(
          'PATCH_FAILED',
          `${where}: test of ${operation.path} failed (found ${JSON.stringify(child(container, last))})`,
        );
      return;
    case 'remove':
    case 'replace':
      if (!exists || last === '-')
        throw new DeployCheckError('PATCH_FAILED', `${where}: ${operation.path} does not exist`);
      if (Array.isArray(container)) {
        if (operation.op === 'remove') container.splice(Number(last), 1);
        else container[Number(last)] = operation.value;
      } else if (operation.op === 'remove') {
        delete container[last];
      } else {
        container[last] = operation.value;
      }
      return;
    case 'add':
      if (Array.isArray(container)) {
        const index = last === '-' ? container.length : Number(last);
        if (!Number.isInteger(index) || index > container.length)
          throw new DeployCheckError('PATCH_FAILED', `${where}: ${operation.path} is out of range`);
        container.splice(index, 0, operation.value);
      } else {
        container[last] = operation.value;
      }
      return;
    default:
      throw new DeployCheckError(
        'KUSTOMIZE_UNSUPPORTED',
        `${where}: operation "${String((operation as { op?: unknown }).op)}" is not supported here`,
      );
  }
}

function child(parent: unknown, token: string): unknown {
  if (Array.isArray(parent)) return parent[Number(token)];
  if (typeof parent === 'object' && parent !== null)
    return (parent as Record<string, unknown>)[token];
  return undefined;
}
