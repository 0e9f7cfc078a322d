#!/usr/bin/env node
// `pnpm deploy:check [command]`: validates deploy/ without a cluster or a container engine.
//   check                 everything (the default): overlays, NATS config, Dockerfile, Vault policy
//   render <overlay>      prints an overlay rendered (dev | production), as `kubectl kustomize` would
//   nats-config [--write] checks (or, with --write, regenerates) deploy/k8s/base/nats-config.yaml
//   nats-nkeys            prints fresh NATS credentials for deploy/k8s (a new nkey per NATS user):
//                         `pnpm nats:nkeys | kubectl apply -f -`, or into your secret store
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runAllChecks } from './check-all.js';
import { DeployCheckError } from './errors.js';
import { renderKustomization } from './kustomize.js';
import { generateNatsConfigMap, NATS_CONFIGMAP_FILE } from './nats-config.js';
import { renderNatsCredentials } from './nats-nkeys.js';
import { K8S_DIR, OVERLAYS, type Overlay } from './paths.js';

const USAGE =
  'usage: deploy-check [check | render <dev|production> | nats-config [--write] | nats-nkeys]';
const EXIT_USAGE = 64;

async function run(argv: readonly string[]): Promise<number> {
  const [command = 'check', ...rest] = argv;
  if (command === 'render') {
    const overlay = rest[0];
    if (rest.length !== 1 || !OVERLAYS.includes(overlay as Overlay)) {
      process.stderr.write(`deploy-check: ${USAGE}\n`);
      return EXIT_USAGE;
    }
    const objects = await renderKustomization(join(K8S_DIR, 'overlays', overlay!));
    process.stdout.write(objects.map((object) => stringify(object)).join('---\n'));
    return 0;
  }
  if (command === 'nats-config') {
    if (rest.length > 1 || (rest.length === 1 && rest[0] !== '--write')) {
      process.stderr.write(`deploy-check: ${USAGE}\n`);
      return EXIT_USAGE;
    }
    const { configMap } = await generateNatsConfigMap();
    if (rest[0] === '--write') {
      await writeFile(NATS_CONFIGMAP_FILE, configMap);
      process.stdout.write(`wrote ${NATS_CONFIGMAP_FILE}\n`);
      return 0;
    }
    const committed = await readFile(NATS_CONFIGMAP_FILE, 'utf8').catch(() => '');
    if (committed !== configMap) {
      process.stderr.write(
        `deploy-check: ${NATS_CONFIGMAP_FILE} differs from deploy/nats/heroagent.conf; run \`pnpm deploy:check nats-config --write\`\n`,
      );
      return 1;
    }
    process.stdout.write('nats-config.yaml matches deploy/nats/heroagent.conf\n');
    return 0;
  }
  if (command === 'nats-nkeys' && rest.length === 0) {
    const { source } = await generateNatsConfigMap();
    process.stdout.write(renderNatsCredentials(source.users));
    return 0;
  }
  if (command !== 'check' || rest.length > 0) {
    process.stderr.write(`deploy-check: ${USAGE}\n`);
    return EXIT_USAGE;
  }
  const problems = await runAllChecks();
  for (const problem of problems) process.stderr.write(`  - ${problem}\n`);
  process.stdout.write(
    problems.length === 0 ? 'deploy/ checked: no problems\n' : `${problems.length} problem(s)\n`,
  );
  return problems.length === 0 ? 0 : 1;
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof DeployCheckError)) throw error;
  process.stderr.write(`deploy-check: ${error.message}\n`);
  process.exitCode = 1;
}
