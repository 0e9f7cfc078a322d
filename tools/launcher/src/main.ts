import { LauncherConfigError, loadLauncherConfig } from './config.js';
import { launchPlatform } from './platform.js';

const EXIT_CONFIG = 78;

let config;
try {
  config = loadLauncherConfig();
} catch (error) {
  if (!(error instanceof LauncherConfigError)) throw error;
  process.stderr.write(`[launcher] ${error.message}\n`);
  process.exit(EXIT_CONFIG);
}

const platform = await launchPlatform(config, (line) => process.stdout.write(`${line}\n`)).catch(
  (error: unknown) => {
    process.stderr.write(
      `[launcher] could not start HeroAgent: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n[launcher] ${signal}: stopping HeroAgent…\n`);
  platform.stop().then(
    () => {
      process.stdout.write('[launcher] stopped.\n');
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`[launcher] stop failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
void platform.crashed.then((service) => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(
    `[launcher] ${service} exited unexpectedly; stopping everything (logs in ${config.home}/logs)\n`,
  );
  void platform.stop().finally(() => process.exit(1));
});
