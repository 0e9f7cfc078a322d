import { healthContracts, type ServiceName } from '@heroagent/contracts';
import type { ContractClient, HealthService } from '@heroagent/service';

/** What /readyz answers: no versions and no error details, since it is unauthenticated. */
export interface Readiness {
  readonly status: 'ready' | 'not_ready';
  readonly checks: Record<string, 'up' | 'down'>;
  readonly services: Record<ServiceName, 'ok' | 'degraded' | 'unreachable'>;
}

const PEERS = ['agent', 'vault-proxy', 'audit'] as const;
// The gateway cannot act without credentials or without an audit record; it can still serve
// people while the agent is down, so the agent is reported but does not decide readiness.
const REQUIRED: readonly ServiceName[] = ['gateway', 'vault-proxy', 'audit'];
const PEER_TIMEOUT_MS = 2_000;

/** Asks the gateway's own dependencies and each peer service's health RPC. */
export class ReadinessService {
  constructor(
    private readonly health: HealthService,
    private readonly client: ContractClient,
  ) {}

  async check(): Promise<Readiness> {
    const [own, ...peers] = await Promise.all([
      this.health.report(),
      ...PEERS.map((peer) =>
        this.client.request(healthContracts[peer], {}, { timeoutMs: PEER_TIMEOUT_MS }).then(
          (report) => report.status,
          () => 'unreachable' as const,
        ),
      ),
    ]);
    const services = {
      gateway: own.status,
      ...Object.fromEntries(PEERS.map((peer, index) => [peer, peers[index]])),
    } as Readiness['services'];
    const checks = Object.fromEntries(own.checks.map((check) => [check.name, check.status]));
    const ready = REQUIRED.every((service) => services[service] === 'ok');
    return { status: ready ? 'ready' : 'not_ready', checks, services };
  }
}
