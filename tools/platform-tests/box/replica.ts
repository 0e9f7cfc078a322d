import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, type Service } from '../support/platform.js';

/**
 * One replica of a service as its own process (`node services/<service>/dist/src/main.js`), as a
 * pod runs it: started, killed with SIGKILL at any moment, and started again with the same
 * environment. Its output goes to a log file of its own.
 */
export class ServiceReplica {
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> = Promise.resolve();
  private log: WriteStream | undefined;
  /** How many times it was started, and killed. */
  starts = 0;
  kills = 0;

  constructor(
    readonly service: Service,
    readonly index: number,
    private readonly env: Record<string, string>,
    private readonly logDir: string,
  ) {}

  get name(): string {
    return `${this.service}-${this.index}`;
  }

  /** Whether it runs and has said it is ready (a starting replica is not yet). */
  get ready(): boolean {
    return this.running && this.readied;
  }
  private readied = false;

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  /** Starts the process and waits until it logs that it is ready (it exits: the start failed). */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) return;
    this.starts += 1;
    this.readied = false;
    this.log ??= createWriteStream(join(this.logDir, `${this.name}.log`), { flags: 'a' });
    const main = join(REPO_ROOT, 'services', this.service, 'dist', 'src', 'main.js');
    const child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    this.exited = exited;
    const readyLine = `"msg":"${this.service} ready"`;
    let tail = '';
    const ready = new Promise<void>((resolve) => {
      const watch = (chunk: Buffer) => {
        this.log?.write(chunk);
        tail = (tail + chunk.toString('utf8')).slice(-4096);
        if (tail.includes(readyLine)) resolve();
      };
      child.stdout?.on('data', watch);
      child.stderr?.on('data', watch);
    });
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ready.then(() => 'ready' as const),
      exited.then(() => 'exited' as const),
      new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.readied = outcome === 'ready';
    if (outcome !== 'ready') {
      await this.kill();
      throw new Error(
        `${this.name} ${outcome === 'late' ? 'was not ready in time' : 'exited'} (log: ${join(this.logDir, `${this.name}.log`)}): ${tail}`,
      );
    }
  }

  /** SIGKILL: no shutdown hook runs, nothing is flushed. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.kills += 1;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, as a rollout stops a pod, then waits for the exit. */
  async stop(): Promise<void> {
    if (this.running) {
      this.child!.kill('SIGTERM');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), 20_000);
      await this.exited;
      clearTimeout(timer);
    }
    this.log?.end();
  }
}
