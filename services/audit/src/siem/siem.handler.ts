import { Controller, Inject } from '@nestjs/common';
import {
  ContractError,
  configureSiemDestination,
  listSiemDestinations,
  removeSiemDestination,
  testSiemDestination,
  type RpcRequest,
  type SiemDestination,
} from '@heroagent/contracts';
import { RpcHandler } from '@heroagent/service';
import { requireAdministrator, requireWholeTenant } from '../records/access.js';
import { assertWebhookEndpoint } from './checkpoint-webhook.js';
import { DestinationGuard } from './destination-guard.js';
import { HeaderVault } from './header-vault.js';
import { SiemRepository, type StoredDestination } from './siem.repository.js';
import { SiemStreamer } from './siem.streamer.js';
import { toLogRecord } from './log-records.js';

/** A destination as its tenant sees it: header names, never their values. */
function toView(row: StoredDestination): SiemDestination {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    endpoint: row.endpoint,
    encoding: row.encoding,
    headerNames: row.header_names,
    enabled: row.enabled,
    exportedThroughSeq: row.exported_through_seq,
    checkpointsThrough: row.checkpoints_through,
    ...(row.last_success_at === null ? {} : { lastSuccessAt: row.last_success_at.toISOString() }),
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
  };
}

/** SIEM destinations over NATS: owners and admins configure, auditors may look. */
@Controller()
export class SiemHandler {
  constructor(
    @Inject(SiemRepository) private readonly siem: SiemRepository,
    @Inject(HeaderVault) private readonly vault: HeaderVault,
    @Inject(SiemStreamer) private readonly streamer: SiemStreamer,
    @Inject(DestinationGuard) private readonly guard: DestinationGuard,
  ) {}

  @RpcHandler(configureSiemDestination)
  async configure(request: RpcRequest<typeof configureSiemDestination>): Promise<SiemDestination> {
    const { viewer } = request;
    requireAdministrator(viewer, 'configure SIEM destinations');
    if (request.kind === 'webhook') await assertWebhookEndpoint(this.guard, request.endpoint);
    else await this.guard.check(request.endpoint);
    const saved = await this.siem.save(viewer.tenantId, {
      ...(request.id === undefined ? {} : { id: request.id }),
      name: request.name,
      endpoint: request.endpoint,
      encoding: request.encoding,
      kind: request.kind,
      headersCiphertext: (id) => this.vault.seal(viewer.tenantId, id, request.headers),
      headerNames: Object.keys(request.headers).sort(),
      enabled: request.enabled,
    });
    if (saved === undefined) throw new ContractError('NOT_FOUND', 'no such SIEM destination');
    return toView(saved);
  }

  @RpcHandler(listSiemDestinations)
  async list(request: RpcRequest<typeof listSiemDestinations>) {
    requireWholeTenant(request.viewer, 'see SIEM destinations');
    return { destinations: (await this.siem.list(request.viewer.tenantId)).map(toView) };
  }

  @RpcHandler(removeSiemDestination)
  async remove(request: RpcRequest<typeof removeSiemDestination>) {
    requireAdministrator(request.viewer, 'remove SIEM destinations');
    if (!(await this.siem.remove(request.viewer.tenantId, request.id)))
      throw new ContractError('NOT_FOUND', 'no such SIEM destination');
    return { removed: true as const };
  }

  @RpcHandler(testSiemDestination)
  async test(request: RpcRequest<typeof testSiemDestination>) {
    const { viewer } = request;
    requireAdministrator(viewer, 'test SIEM destinations');
    const destination = await this.siem.get(viewer.tenantId, request.id);
    if (destination === undefined) throw new ContractError('NOT_FOUND', 'no such SIEM destination');
    if (destination.kind === 'webhook') {
      // A webhook takes signed checkpoints only; its next one (at least hourly) is its test.
      throw new ContractError('INVALID_REQUEST', 'a webhook is not sent test records', [
        { path: 'id', message: 'is a webhook' },
      ]);
    }
    const now = new Date();
    const record = toLogRecord(
      {
        event: {
          id: '00000000-0000-4000-8000-000000000000',
          tenantId: viewer.tenantId,
          occurredAt: now.toISOString(),
          name: 'siem.test',
          source: 'audit',
          actor: { type: 'user', id: viewer.userId },
          userId: viewer.userId,
          outcome: 'success',
          rationale: 'Test record sent from the HeroAgent console.',
          data: {},
        },
        signature: { alg: 'Ed25519', kid: 'test', sig: 'A'.repeat(86) },
      },
      { seq: 0, hash: '0'.repeat(64), receivedAt: now },
    );
    const outcome = await this.streamer.send(destination, [record]);
    return outcome.error === undefined
      ? { delivered: outcome.delivered }
      : { delivered: outcome.delivered, error: outcome.error };
  }
}
