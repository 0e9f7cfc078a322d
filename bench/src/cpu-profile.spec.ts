import { describe, expect, it } from 'vitest';
import { ownerOf, summarizeProfile, type CpuProfile } from './cpu-profile.js';

const ROOT = 'file:///work/repo/';

describe('ownerOf', () => {
  it('names a dependency by its package, scoped or not, however deep pnpm keeps it', () => {
    expect(
      ownerOf(
        'file:///work/repo/node_modules/.pnpm/pg@8.16.0/node_modules/pg/lib/client.js',
        'query',
        ROOT,
      ),
    ).toEqual({ area: 'pg', file: 'lib/client.js' });
    expect(
      ownerOf(
        'file:///work/repo/node_modules/.pnpm/@nats-io+nats-core@3.1.0/node_modules/@nats-io/nats-core/lib/nats.js',
        'request',
        ROOT,
      ),
    ).toEqual({ area: '@nats-io/nats-core', file: 'lib/nats.js' });
  });

  it('names this repository’s code by service, library or folder', () => {
    expect(
      ownerOf(`${ROOT}services/gateway/dist/src/actions/execute-action.js`, 'execute', ROOT),
    ).toEqual({ area: 'services/gateway', file: 'dist/src/actions/execute-action.js' });
    expect(ownerOf(`${ROOT}libs/crypto/dist/seal.js`, 'seal', ROOT)).toEqual({
      area: 'libs/crypto',
      file: 'dist/seal.js',
    });
    expect(ownerOf(`${ROOT}bench/dist/timing.js`, 'warmUp', ROOT)).toEqual({
      area: 'bench',
      file: 'dist/timing.js',
    });
  });

  it('tells Node’s own modules, the VM’s entries, native code and anything else apart', () => {
    expect(ownerOf('node:internal/http', 'parse', ROOT)).toEqual({
      area: 'node (built-in)',
      file: 'internal/http',
    });
    expect(ownerOf('', '(garbage collector)', ROOT)).toEqual({
      area: '(garbage collector)',
      file: '',
    });
    expect(ownerOf('', '(idle)', ROOT)).toEqual({ area: '(idle)', file: '' });
    expect(ownerOf('wasm://wasm/01079692', 'is_authorized', ROOT)).toEqual({
      area: '(wasm)',
      file: 'wasm/01079692',
    });
    expect(ownerOf('', 'stringify', ROOT)).toEqual({ area: '(native)', file: 'stringify' });
    expect(ownerOf('file:///elsewhere/x.js', 'f', ROOT)).toEqual({
      area: '(other)',
      file: 'file:///elsewhere/x.js',
    });
  });
});

describe('summarizeProfile', () => {
  const frame = (functionName: string, url: string, lineNumber = 0) => ({
    functionName,
    url,
    lineNumber,
  });
  // root → gateway's execute → pg's query; root → (idle).
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 4] },
      {
        id: 2,
        callFrame: frame('execute', `${ROOT}services/gateway/dist/src/a.js`, 9),
        children: [3],
      },
      { id: 3, callFrame: frame('query', `${ROOT}node_modules/pg/lib/client.js`, 41) },
      { id: 4, callFrame: frame('(idle)', '') },
    ],
    startTime: 0,
    endTime: 150,
    // Samples at 10, 30, 60 and 100 µs.
    samples: [2, 3, 3, 4],
    timeDeltas: [10, 20, 30, 40],
  };

  it('gives each sample the time to the next one, the last the time to the end', () => {
    const summary = summarizeProfile(profile, { root: ROOT, top: 10 });
    expect(summary.samples).toBe(4);
    expect(summary.sampledMicros).toBe(140);
    expect(summary.busyMicros).toBe(90);
    expect(summary.areas).toEqual([
      { name: 'pg', area: 'pg', micros: 70, share: 0.5 },
      { name: '(idle)', area: '(idle)', micros: 50, share: 50 / 140 },
      { name: 'services/gateway', area: 'services/gateway', micros: 20, share: 20 / 140 },
    ]);
    expect(summary.functions.map(({ name, micros }) => [name, micros])).toEqual([
      ['query (pg/lib/client.js:42)', 70],
      ['(idle)', 50],
      ['execute (services/gateway/dist/src/a.js:10)', 20],
    ]);
    // pg's query ran for the gateway's execute: both charged to execute; idle to no one.
    expect(summary.repositoryCallers).toEqual([
      {
        name: 'execute (services/gateway/dist/src/a.js:10)',
        area: 'services/gateway',
        micros: 90,
        share: 90 / 140,
      },
    ]);
    expect(summary.files[0]).toEqual({
      name: 'pg/lib/client.js',
      area: 'pg',
      micros: 70,
      share: 0.5,
    });
  });

  it('adds up one function reached by several paths, and lists only the top ones', () => {
    const twice: CpuProfile = {
      ...profile,
      nodes: [
        ...profile.nodes,
        { id: 5, callFrame: frame('query', `${ROOT}node_modules/pg/lib/client.js`, 41) },
      ],
      samples: [3, 5, 5, 4],
    };
    const summary = summarizeProfile(twice, { root: ROOT, top: 1 });
    expect(summary.functions).toEqual([
      { name: 'query (pg/lib/client.js:42)', area: 'pg', micros: 90, share: 90 / 140 },
    ]);
    expect(summary.files).toHaveLength(1);
    expect(summary.areas.map(({ name }) => name)).toEqual(['pg', '(idle)']);
  });

  it('refuses samples and deltas that do not pair up, and a sample of no node', () => {
    expect(() =>
      summarizeProfile({ ...profile, timeDeltas: [10] }, { root: ROOT, top: 5 }),
    ).toThrow('4 samples but 1 time deltas');
    expect(() =>
      summarizeProfile({ ...profile, samples: [2, 3, 9, 4] }, { root: ROOT, top: 5 }),
    ).toThrow('sample 2 names node 9, not in the profile');
  });

  it('summarizes a profile without samples as no time at all', () => {
    const empty = summarizeProfile(
      { nodes: profile.nodes, startTime: 0, endTime: 0 },
      { root: ROOT, top: 5 },
    );
    expect(empty).toMatchObject({
      sampledMicros: 0,
      busyMicros: 0,
      areas: [],
      functions: [],
      repositoryCallers: [],
    });
  });
});
