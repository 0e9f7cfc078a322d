import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { lintDockerfile } from './dockerfile.js';
import { renderKustomization } from './kustomize.js';
import { generateNatsConfigMap, NATS_CONFIGMAP_FILE } from './nats-config.js';
import { DEPLOY_DIR, K8S_DIR, OVERLAYS } from './paths.js';
import {
  checkPodEnvironment,
  heroagentServiceOf,
  loadExampleObjects,
  podEnvironments,
} from './pod-env.js';
import { checkRules } from './rules.js';
import { scanForSecrets } from './secrets-scan.js';
import { validateObjects } from './validate.js';
import { parseVaultPolicy } from './vault-policy.js';

/** `kubectl kustomize`'s rendering when kubectl is on PATH, else undefined. */
export async function kubectlKustomize(directory: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)('kubectl', ['kustomize', directory], {
      maxBuffer: 32 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Every check `pnpm deploy:check` runs, as a list of problems (empty: all good). */
export async function runAllChecks(): Promise<string[]> {
  const problems: string[] = [];
  const examples = await loadExampleObjects();
  for (const overlay of OVERLAYS) {
    const objects = await renderKustomization(join(K8S_DIR, 'overlays', overlay));
    // Each container's references and files; the services' schemas themselves run in the tests.
    for (const environment of podEnvironments(objects, examples)) {
      const found =
        heroagentServiceOf(environment.image) === undefined
          ? environment.problems.map((problem) => `${environment.where}: ${problem}`)
          : checkPodEnvironment(environment);
      problems.push(...found.map((problem) => `${overlay}: ${problem}`));
    }
    problems.push(
      ...validateObjects(objects).map((problem) => `${overlay}: ${problem}`),
      ...checkRules(objects, { production: overlay === 'production' }).map(
        (problem) => `${overlay}: ${problem}`,
      ),
    );
  }
  const { configMap } = await generateNatsConfigMap();
  if ((await readFile(NATS_CONFIGMAP_FILE, 'utf8').catch(() => '')) !== configMap)
    problems.push('deploy/k8s/base/nats-config.yaml differs from deploy/nats/heroagent.conf');
  problems.push(
    ...lintDockerfile(await readFile(join(DEPLOY_DIR, 'docker', 'Dockerfile'), 'utf8')).map(
      (problem) => `deploy/docker/Dockerfile: ${problem}`,
    ),
  );
  parseVaultPolicy(
    await readFile(join(DEPLOY_DIR, 'vault', 'policies', 'heroagent-vault-proxy.hcl'), 'utf8'),
  );
  problems.push(...(await scanForSecrets()));
  return problems;
}
