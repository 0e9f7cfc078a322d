import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintDockerfile, parseDockerfile } from '../src/dockerfile.js';
import { DEPLOY_DIR } from '../src/paths.js';

const dockerfile = await readFile(join(DEPLOY_DIR, 'docker', 'Dockerfile'), 'utf8');

describe('deploy/docker/Dockerfile', () => {
  it('keeps the image rules', () => {
    expect(lintDockerfile(dockerfile)).toEqual([]);
  });

  it('builds every service with the same steps, migrations from the same image', () => {
    expect(dockerfile).toContain('deploy --prod');
    expect(dockerfile).toContain('prune-tree.sh');
    expect(dockerfile).toMatch(/CMD \["node", "dist\/src\/main\.js"\]/);
  });
});

describe('the Dockerfile lint fails on', () => {
  const good = dockerfile;
  const cases: Array<[string, string, RegExp]> = [
    [
      'one stage',
      good.slice(good.indexOf('FROM node:24.21.0-bookworm-slim AS runtime')),
      /multi-stage/,
    ],
    [
      'latest',
      good.replace('node:24.21.0-bookworm-slim AS runtime', 'node:latest AS runtime'),
      /latest/,
    ],
    [
      'a floating tag',
      good.replace('node:24.21.0-bookworm-slim AS runtime', 'node:24-slim AS runtime'),
      /must be pinned/,
    ],
    [
      'an ARG as base',
      good.replace(
        'FROM node:24.21.0-bookworm-slim AS build',
        'ARG BASE=node:24.21.0\nFROM ${BASE} AS build',
      ),
      /not an ARG/,
    ],
    ['a root user', good.replace('USER 10001:10001', 'USER root'), /numeric, non-root/],
    ['uid 0', good.replace('USER 10001:10001', 'USER 0'), /numeric, non-root/],
    ['no user', good.replace('USER 10001:10001', ''), /must set USER/],
    ['no healthcheck', good.replace(/HEALTHCHECK .*\n/, ''), /HEALTHCHECK/],
    [
      'build tools in the runtime',
      good.replace('USER 10001:10001', 'RUN apt-get install -y gcc\nUSER 10001:10001'),
      /build tools/,
    ],
    [
      'a shell-form CMD',
      good.replace('CMD ["node", "dist/src/main.js"]', 'CMD node dist/src/main.js'),
      /exec form/,
    ],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(lintDockerfile(text).join('\n')).toMatch(expected);
  });

  it('text that is no Dockerfile', () => {
    expect(() => parseDockerfile('FROM node:24.21.0\n!!!\n')).toThrow(/DOCKERFILE_INVALID: line 2/);
  });
});
