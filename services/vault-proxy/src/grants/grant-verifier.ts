import type { KeyObject } from 'node:crypto';
import { ContractError, issueToken, type RpcContract } from '@heroagent/contracts';
import { CryptoError, verifyJson, type JsonSignature, type JsonValue } from '@heroagent/crypto';
import { sql, type Kysely } from '@heroagent/db';
import type { VaultProxyDatabase } from '../store-tables.js';

/** The fields every signed grant carries. */
interface GrantMeta {
  readonly requestId: string;
  readonly issuedAt: string;
}

/**
 * Requests whose grant is not recorded against replay: a replay within the skew window gets only
 * another answer sealed to the gateway, useless to whoever replayed it, and repeats nothing a
 * second time that the first did not (a token is served from cache, or refreshed as any request
 * would be). Every other request changes something (or answers in clear) and is recorded.
 */
const SEALED_READS: ReadonlySet<string> = new Set([issueToken.subject]);

/**
 * Checks that a request carrying authority comes from the gateway: signed by one of the gateway's
 * keys for this very subject and issued within the allowed skew. Unless its answer is sealed and
 * it changes nothing ({@link SEALED_READS}), it must also never have been seen before: its request
 * id is recorded, and a replay is refused even after a restart or on another replica.
 */
export class GrantVerifier {
  constructor(
    private readonly db: Kysely<VaultProxyDatabase>,
    private readonly gatewayKeys: ReadonlyMap<string, KeyObject>,
    private readonly maxSkewMs: number,
  ) {}

  async verify<G extends GrantMeta>(
    contract: RpcContract,
    request: { grant: G; signature: JsonSignature },
    now = Date.now(),
  ): Promise<G> {
    try {
      verifyJson(
        request.grant as unknown as JsonValue,
        contract.subject,
        request.signature,
        (kid) => this.gatewayKeys.get(kid),
      );
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      throw new ContractError(
        'SIGNATURE_INVALID',
        `${contract.subject} must be signed by the gateway`,
      );
    }
    const issued = Date.parse(request.grant.issuedAt);
    if (!(Math.abs(now - issued) <= this.maxSkewMs)) {
      throw new ContractError('FORBIDDEN', 'the request is too old or from the future');
    }
    if (SEALED_READS.has(contract.subject)) return request.grant;
    const inserted = await this.db
      .insertInto('seen_requests')
      .values({ request_id: request.grant.requestId })
      .onConflict((conflict) => conflict.column('request_id').doNothing())
      .returning('request_id')
      .execute();
    if (inserted.length === 0)
      throw new ContractError('FORBIDDEN', 'the request was already answered (replay)');
    return request.grant;
  }

  /** Forgets request ids too old to be accepted anyway. */
  async prune(now = Date.now()): Promise<number> {
    const cutoff = new Date(now - 2 * this.maxSkewMs);
    const result = await sql`delete from seen_requests where seen_at < ${cutoff}`.execute(this.db);
    return Number(result.numAffectedRows ?? 0);
  }
}
