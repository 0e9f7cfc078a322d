import type { HealthCheck, HealthReport, ServiceName } from '@heroagent/contracts';

/** One dependency to check: resolves when it answers, rejects (with a reason) when it does not. */
export interface HealthIndicator {
  readonly name: string;
  check(): Promise<void>;
}

/** What a running service says about itself. */
export interface ServiceIdentity {
  readonly name: ServiceName;
  readonly version: string;
  readonly startedAt: Date;
}

/** Injection tokens for the health module. */
export const SERVICE_IDENTITY = Symbol('SERVICE_IDENTITY');
export const HEALTH_INDICATORS = Symbol('HEALTH_INDICATORS');

const CHECK_TIMEOUT_MS = 2_000;

/** Builds a service's health report from its indicators, each bounded by a timeout. */
export class HealthService {
  constructor(
    private readonly identity: ServiceIdentity,
    private readonly indicators: readonly HealthIndicator[],
  ) {}

  async report(): Promise<HealthReport> {
    const checks = await Promise.all(this.indicators.map((indicator) => runCheck(indicator)));
    return {
      service: this.identity.name,
      status: checks.every((check) => check.status === 'up') ? 'ok' : 'degraded',
      version: this.identity.version,
      startedAt: this.identity.startedAt.toISOString(),
      uptimeSeconds: Math.round((Date.now() - this.identity.startedAt.getTime()) / 1000),
      checks,
    };
  }
}

async function runCheck(indicator: HealthIndicator): Promise<HealthCheck> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      indicator.check(),
      new Promise((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { name: indicator.name, status: 'up' };
  } catch (error) {
    // Only a short reason: a driver's message can carry a connection string.
    const reason =
      error instanceof Error ? error.message.split('\n')[0]!.slice(0, 200) : 'unreachable';
    return { name: indicator.name, status: 'down', detail: reason.replace(/\/\/[^@\s]*@/g, '//') };
  } finally {
    clearTimeout(timer);
  }
}
