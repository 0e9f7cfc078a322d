import type { Logger } from '@heroagent/telemetry';
import type { OAuthClient, RevocationAnswer } from '../oauth/oauth-client.js';
import type { SecretsBackend } from '../secrets/secrets-backend.js';
import type { TokenService } from '../tokens/token-service.js';
import type {
  ClaimedRevocation,
  DueRevocation,
  RevocationResult,
  RevocationsRepository,
} from './revocations.repository.js';

/** How the worker paces itself. */
export interface RevocationWorkerOptions {
  readonly pollMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /**
   * How long a claimed revocation is left to a replica that stopped answering before another
   * takes it over (the connection's lock, not the lease, keeps two attempts apart).
   */
  readonly leaseMs: number;
}

/**
 * Exponential backoff with jitter: the n-th failed attempt waits between half and all of
 * `base·2^(n-1)` (at most `max`), so replicas and connections that failed together spread out.
 */
export function retryDelayMs(
  attempts: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempts, 1) - 1, 40));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/**
 * Works through the revocation queue on every replica, one revocation at a time: picks the one
 * due first (SKIP LOCKED), takes the connection's refresh lock (so it is the only user of the
 * refresh token across replicas, and the only attempt at this revocation), claims it there (a
 * claim id and a lease that start now), and asks the provider to revoke the refresh token of the
 * grant the revocation was queued for. Until the provider confirms, or says the token is already
 * dead, the sealed token stays stored and the revocation is retried with backoff; then every
 * stored version of that grant's secret is deleted, the cached tokens dropped and the receipt
 * written — by the attempt holding the claim only, once.
 */
export class RevocationWorker {
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private again = false;
  /** Set at shutdown: a revocation queued from then on waits for the next replica's poll. */
  private stopped = false;

  constructor(
    private readonly revocations: RevocationsRepository,
    private readonly secrets: SecretsBackend,
    private readonly oauth: OAuthClient,
    private readonly tokens: TokenService,
    private readonly options: RevocationWorkerOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.nudge(), this.options.pollMs);
    this.timer.unref();
    this.nudge();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    this.again = false;
    await this.draining;
  }

  /** Looks for due revocations now (a new one is tried at once, not at the next poll). */
  nudge(): void {
    if (this.stopped) return;
    if (this.draining !== undefined) {
      this.again = true;
      return;
    }
    this.draining = this.drain()
      .catch((error: unknown) =>
        this.logger.warn({ err: error }, 'working through the revocation queue failed'),
      )
      .finally(() => {
        this.draining = undefined;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      const due = await this.revocations.nextDue(this.options.leaseMs);
      if (due === undefined) return;
      try {
        await this.tokens.exclusively(due.connectionId, () => this.attempt(due));
      } catch (error) {
        // The lock was not had (another replica holds the connection), or the attempt's own
        // bookkeeping failed: the work comes due again after the lease.
        this.logger.warn(
          { err: error, revocationId: due.revocationId, connectionId: due.connectionId },
          'a revocation attempt did not run to its end: it comes due again',
        );
      }
    }
  }

  /** Holding the connection's lock: one attempt, if the revocation is still due and unfinished. */
  private async attempt(due: DueRevocation): Promise<void> {
    const revocation = await this.revocations.claim(due, this.options.leaseMs);
    if (revocation === undefined) return;
    let answer: RevocationAnswer | RevocationResult;
    try {
      answer = await this.revokeHeld(revocation);
    } catch (error) {
      answer = {
        outcome: 'failed',
        status: undefined,
        detail: error instanceof Error ? error.message : 'the attempt failed',
      };
    }
    if ('outcome' in answer) {
      const delayMs = retryDelayMs(
        revocation.attempts,
        this.options.retryBaseMs,
        this.options.retryMaxMs,
      );
      await this.revocations.retryLater(revocation, delayMs, answer.detail);
      this.logger.warn(
        {
          code: 'PROVIDER_REVOCATION_PENDING',
          revocationId: revocation.id,
          connectionId: revocation.connection_id,
          attempts: revocation.attempts,
          retryInMs: Math.round(delayMs),
          detail: answer.detail,
        },
        'the provider did not confirm a revocation: the refresh token stays sealed until it does',
      );
      return;
    }
    const receipt = await this.revocations.complete(revocation, answer);
    if (receipt === undefined) {
      this.logger.warn(
        { code: 'REVOCATION_CLAIM_LOST', revocationId: revocation.id },
        "another replica took this revocation over: this attempt's outcome is not recorded",
      );
      return;
    }
    this.logger.info(
      {
        revocationId: receipt.id,
        connectionId: receipt.connectionId,
        attempts: receipt.attempts,
        providerAnswer: receipt.providerAnswer,
      },
      'connection revoked at the provider; its refresh token is deleted',
    );
    if (
      revocation.reason === 'erase_tenant' &&
      (await this.revocations.pendingIn(revocation.tenant_id)) === 0
    ) {
      await this.secrets.deleteTenantSecrets(revocation.tenant_id);
    }
  }

  /** Under the connection's lock: the provider's answer, and the secret deleted once it is final. */
  private async revokeHeld(
    revocation: ClaimedRevocation,
  ): Promise<RevocationAnswer | RevocationResult> {
    // The grant this revocation was queued for, whatever the connection holds now.
    const ref = { tenantId: revocation.tenant_id, connectionId: revocation.secret_id };
    const refreshToken = await this.secrets.getRefreshToken(ref);
    let result: RevocationResult;
    if (refreshToken === undefined) {
      result = { providerStatus: null, providerAnswer: 'no_token_stored' };
    } else {
      const answer = await this.oauth.revoke(revocation.provider, refreshToken);
      if (answer.outcome === 'failed') return answer;
      result = { providerStatus: answer.status ?? null, providerAnswer: answer.outcome };
    }
    await this.secrets.deleteRefreshToken(ref);
    this.tokens.drop(revocation.connection_id);
    return result;
  }
}
