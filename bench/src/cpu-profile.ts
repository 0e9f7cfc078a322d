// Where a V8 CPU profile's time went (the `.cpuprofile` format written by `node --cpu-prof` and
// the inspector's Profiler.stop): self time per function, per file and per package or area of
// this repository, so a profile reads as "the gateway's code, pg, nats.js, Node's HTTP ...".

/** A node of a V8 CPU profile's call tree. */
export interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    /** Zero-based, as V8 reports it. */
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

/** A V8 CPU profile: the call tree, the sampled node ids and the µs between samples. */
export interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** Self time of one function, file or area, in µs and as a share of the sampled time. */
export interface SelfTime {
  readonly name: string;
  readonly area: string;
  readonly micros: number;
  readonly share: number;
}

/** A profile summarized: the sampled time, and the heaviest areas, files and functions. */
export interface ProfileSummary {
  readonly sampledMicros: number;
  readonly samples: number;
  /** The sampled time minus `(idle)`: the time this thread was doing something. */
  readonly busyMicros: number;
  readonly areas: readonly SelfTime[];
  readonly files: readonly SelfTime[];
  readonly functions: readonly SelfTime[];
  /**
   * Each sample charged to the innermost function of this repository on its stack (services/*,
   * libs/*, apps/*), whatever library or built-in it was in: which of our code the time is spent
   * for. Samples with no such frame (idle, GC, callbacks of a library's own) are left out.
   */
  readonly repositoryCallers: readonly SelfTime[];
}

/** Where a script is, read from its URL: the package or area of this repository it belongs to. */
export interface ScriptOwner {
  /** `pg`, `@nats-io/nats-core`, `services/gateway`, `libs/crypto`, `node (built-in)`, `(wasm)`. */
  readonly area: string;
  /** The file within it, for a table: `lib/client.js`, `dist/src/actions/execute-action.js`. */
  readonly file: string;
}

const VM_ENTRIES = new Set(['(garbage collector)', '(idle)', '(program)', '(root)']);

/**
 * The area a function's script belongs to. `root` is the repository's `file://` URL, ending in a
 * slash: a script under it is `services/<name>`, `libs/<name>` or the folder it is in.
 */
export function ownerOf(url: string, functionName: string, root: string): ScriptOwner {
  if (url === '') {
    const vm = VM_ENTRIES.has(functionName);
    return { area: vm ? functionName : '(native)', file: vm ? '' : functionName };
  }
  if (url.startsWith('node:')) return { area: 'node (built-in)', file: url.slice('node:'.length) };
  if (url.startsWith('wasm://')) return { area: '(wasm)', file: url.slice('wasm://'.length) };
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    const scoped = parts[0]?.startsWith('@') === true;
    const length = scoped ? 2 : 1;
    return { area: parts.slice(0, length).join('/'), file: parts.slice(length).join('/') };
  }
  if (url.startsWith(root)) {
    const parts = url.slice(root.length).split('/');
    const length = parts[0] === 'services' || parts[0] === 'libs' || parts[0] === 'apps' ? 2 : 1;
    return { area: parts.slice(0, length).join('/'), file: parts.slice(length).join('/') };
  }
  return { area: '(other)', file: url };
}

/**
 * Self time per function, file and area. A sample's time is the gap to the next sample (the
 * last one's, to the profile's end), as Chrome's DevTools count it. `top` limits the files and
 * functions listed; every area is listed.
 */
export function summarizeProfile(
  profile: CpuProfile,
  options: { readonly root: string; readonly top: number },
): ProfileSummary {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length !== deltas.length) {
    throw new RangeError(`${samples.length} samples but ${deltas.length} time deltas`);
  }
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  let clock = profile.startTime;
  const times = deltas.map((delta) => (clock += delta));
  for (const [index, id] of samples.entries()) {
    if (!nodes.has(id))
      throw new RangeError(`sample ${index} names node ${id}, not in the profile`);
    const next = index + 1 < times.length ? times[index + 1]! : profile.endTime;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + Math.max(0, next - times[index]!));
  }
  const sampledMicros = [...selfMicros.values()].reduce((sum, micros) => sum + micros, 0);

  const parents = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parents.set(child, node.id);
  }
  const callers = new Map<string, { area: string; micros: number }>();
  const areas = new Map<string, number>();
  const files = new Map<string, { area: string; micros: number }>();
  const functions = new Map<string, { area: string; micros: number }>();
  const add = (
    into: Map<string, { area: string; micros: number }>,
    key: string,
    area: string,
    micros: number,
  ) => {
    const entry = into.get(key) ?? { area, micros: 0 };
    entry.micros += micros;
    into.set(key, entry);
  };
  for (const [id, micros] of selfMicros) {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    const owner = ownerOf(url, functionName, options.root);
    areas.set(owner.area, (areas.get(owner.area) ?? 0) + micros);
    const file = owner.file === '' ? owner.area : `${owner.area}/${owner.file}`;
    add(files, file, owner.area, micros);
    const where = url === '' ? '' : ` (${file}:${lineNumber + 1})`;
    add(functions, `${functionName || '(anonymous)'}${where}`, owner.area, micros);
    const caller = repositoryFrame(id, nodes, parents, options.root);
    if (caller !== undefined) add(callers, caller.name, caller.area, micros);
  }

  const share = (micros: number) => (sampledMicros === 0 ? 0 : micros / sampledMicros);
  const ranked = (entries: Iterable<[string, { area: string; micros: number }]>, top: number) =>
    [...entries]
      .map(([name, { area, micros }]) => ({ name, area, micros, share: share(micros) }))
      .sort((a, b) => b.micros - a.micros || a.name.localeCompare(b.name))
      .slice(0, top);
  return {
    sampledMicros,
    samples: samples.length,
    busyMicros: sampledMicros - (areas.get('(idle)') ?? 0),
    areas: ranked(
      [...areas].map(([area, micros]) => [area, { area, micros }]),
      Number.POSITIVE_INFINITY,
    ),
    files: ranked(files, options.top),
    functions: ranked(functions, options.top),
    repositoryCallers: ranked(callers, options.top),
  };
}

const REPOSITORY_AREA = /^(services|libs|apps)\//;

/** The innermost frame of this repository's code on a node's stack, named as in the tables. */
function repositoryFrame(
  id: number,
  nodes: ReadonlyMap<number, CpuProfileNode>,
  parents: ReadonlyMap<number, number>,
  root: string,
): { name: string; area: string } | undefined {
  for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
    const { functionName, url, lineNumber } = nodes.get(at)!.callFrame;
    const owner = ownerOf(url, functionName, root);
    if (REPOSITORY_AREA.test(owner.area)) {
      const name = `${functionName || '(anonymous)'} (${owner.area}/${owner.file}:${lineNumber + 1})`;
      return { name, area: owner.area };
    }
  }
  return undefined;
}
