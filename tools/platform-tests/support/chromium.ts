import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's Chromium, which playwright-core drives (no browser download: only Debian packages are reachable). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Makes sure Chromium is installed: on a bare machine of this kind (root, Debian's packages
 * reachable) it installs the `chromium` package, as `.ci/run` does; elsewhere it says what to do.
 */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`,
    );
  }
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', 'chromium'],
  ]) {
    const run = spawnSync('apt-get', args, {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 600_000,
    });
    if (run.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (${run.status})`);
  }
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is still missing after apt-get install chromium`);
  return CHROMIUM;
}
