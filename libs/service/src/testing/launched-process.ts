import { spawn } from 'node:child_process';

/** A Node script a test runs as a child process (e.g. the built launcher), its output collected. */
export interface LaunchedProcess {
  readonly pid: number;
  output(): string;
  /** Resolves with the output once `text` appears; rejects if the process exits first. */
  waitFor(text: string, timeoutMs?: number): Promise<string>;
  readonly exited: Promise<number | null>;
}

/**
 * Runs `script` with this Node, with only PATH and HOME of the test's environment plus `env`.
 * `waitFor` gives up after `defaultTimeoutMs` unless told otherwise.
 */
export function launchNodeScript(
  script: string,
  env: Record<string, string>,
  defaultTimeoutMs: number,
): LaunchedProcess {
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    pid: child.pid!,
    output: () => output,
    exited,
    waitFor(text, timeoutMs = defaultTimeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!output.includes(text)) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(output);
        };
        const timer = setTimeout(
          () => reject(new Error(`no "${text}" within ${timeoutMs} ms:\n${output}`)),
          timeoutMs,
        );
        void exited.then(() => {
          clearTimeout(timer);
          if (!output.includes(text))
            reject(new Error(`${script} exited before "${text}":\n${output}`));
        });
        listeners.add(check);
        check();
      });
    },
  };
}
