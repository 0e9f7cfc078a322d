import { withSettings, type Kysely, type Selectable } from '@heroagent/db';
import type { GatewayDatabase } from '../store-tables.js';

export type FlowRow = Omit<Selectable<GatewayDatabase['oauth_flows']>, 'state_hash'>;

/** OAuth flows in progress, reachable only through the hash of their `state`. */
export class FlowsRepository {
  constructor(
    private readonly db: Kysely<GatewayDatabase>,
    /** The sweeper's own role: sees of flows only expired ones, to delete. */
    private readonly sweeper: Kysely<GatewayDatabase>,
  ) {}

  async create(flow: {
    stateHash: Buffer;
    purpose: FlowRow['purpose'];
    provider: string;
    browserHash: Buffer;
    sessionId: string | null;
    codeVerifier: string;
    nonce: string;
    returnTo: string;
    scopes: string[];
    invitationHash: Buffer | null;
    expiresAt: Date;
  }): Promise<void> {
    await withSettings(this.db, { 'app.flow_hash': flow.stateHash.toString('hex') }, (trx) =>
      trx
        .insertInto('oauth_flows')
        .values({
          state_hash: flow.stateHash,
          purpose: flow.purpose,
          provider: flow.provider,
          browser_hash: flow.browserHash,
          session_id: flow.sessionId,
          code_verifier: flow.codeVerifier,
          nonce: flow.nonce,
          return_to: flow.returnTo,
          scopes: flow.scopes,
          invitation_hash: flow.invitationHash,
          expires_at: flow.expiresAt,
        })
        .execute(),
    );
  }

  /**
   * Marks the flow a `state` names as used and returns it, once: a second callback with the same
   * state (a replay), an expired flow or an unknown state gets nothing.
   */
  async consume(stateHash: Buffer, now: Date): Promise<FlowRow | undefined> {
    return withSettings(this.db, { 'app.flow_hash': stateHash.toString('hex') }, (trx) =>
      trx
        .updateTable('oauth_flows')
        .set({ consumed_at: now })
        .where('state_hash', '=', stateHash)
        .where('consumed_at', 'is', null)
        .where('expires_at', '>', now)
        .returning([
          'purpose',
          'provider',
          'browser_hash',
          'session_id',
          'code_verifier',
          'nonce',
          'return_to',
          'scopes',
          'invitation_hash',
          'created_at',
          'expires_at',
          'consumed_at',
        ])
        .executeTakeFirst(),
    );
  }

  /** Removes expired flows (visible to deletion only). */
  async deleteExpired(now: Date): Promise<number> {
    const result = await this.sweeper
      .deleteFrom('oauth_flows')
      .where('expires_at', '<', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
