import type { Logger } from '@heroagent/telemetry';
import type { OAuthClient, RevocationAnswer } from '../oauth/oauth-client.js';
import type { SecretsBackend } from '../secrets/secrets-backend.js';
import type { TokenService } from '../tokens/token-service.js';
import type {
  ClaimedRevocation,
  RevocationResult,
  RevocationsRepository,
} from './revocations.repository.js';

/** How the worker paces itself. */
export interface RevocationWorkerOptions {
  readonly pollMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** How long a claimed revocation is this replica's: longer than one attempt can take. */
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

const BATCH = 10;

/**
 * Works through the revocation queue on every replica (rows claimed with SKIP LOCKED and a
 * lease): asks the provider to revoke the stored refresh token, as the only user of it across
 * replicas (the connection's refresh lock). Until the provider confirms, or says the token is
 * already dead, the sealed token stays stored and the revocation is retried with backoff; then
 * every stored version is deleted, the cached tokens dropped and the receipt written.
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
    for (;;) {
      const due = await this.revocations.claimDue(BATCH, this.options.leaseMs);
      for (const revocation of due) await this.attempt(revocation);
      if (due.length < BATCH) return;
    }
  }

  private async attempt(revocation: ClaimedRevocation): Promise<void> {
    let answer: RevocationAnswer | RevocationResult;
    try {
      answer = await this.tokens.exclusively(revocation.connection_id, () =>
        this.revokeHeld(revocation),
      );
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
    const ref = { tenantId: revocation.tenant_id, connectionId: revocation.connection_id };
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
