import type { Request } from 'express';
import { ContractError } from '@heroagent/contracts';
import type { FlowRow, FlowsRepository } from './flows.repository.js';
import { hashSecret, isBearerSecret, newBearerSecret } from '../sessions/secrets.js';

/** What the gateway records when a flow starts, beyond the PKCE verifier the strategy makes. */
export interface FlowStart {
  readonly purpose: FlowRow['purpose'];
  readonly provider: string;
  /** Hash of the flow cookie: only the browser that started the flow may finish it. */
  readonly browserHash: Buffer;
  readonly sessionId: string | null;
  readonly nonce: string;
  readonly returnTo: string;
  readonly scopes: readonly string[];
  readonly invitationHash: Buffer | null;
}

/** What a callback must match: set by the controller before the strategy runs. */
export interface FlowExpectation {
  readonly purpose: FlowRow['purpose'];
  readonly provider: string;
  readonly browserSecret: string | undefined;
  readonly sessionId: string | null;
}

const expectations = new WeakMap<Request, FlowExpectation>();
const verified = new WeakMap<Request, FlowRow>();

/** Says what the callback on this request must match. */
export function expectFlow(request: Request, expectation: FlowExpectation): void {
  expectations.set(request, expectation);
}

/** The flow the callback on this request consumed (after the store verified it). */
export function verifiedFlow(request: Request): FlowRow | undefined {
  return verified.get(request);
}

type Callback = (error: Error | null, ok: string | false, info?: unknown) => void;

/**
 * passport-oauth2's state store, in Postgres: `state` is a fresh random secret whose hash keys the
 * flow row (PKCE verifier, nonce, purpose, return path). A callback's state is used once, must
 * not have expired, must come from the browser that started the flow (its flow cookie), for the
 * same purpose and provider (and, to connect an account, the same session).
 */
export class FlowStateStore {
  constructor(
    private readonly flows: FlowsRepository,
    private readonly ttlMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  // passport-oauth2 picks the PKCE form of the store by arity (5): keep the parameters.
  store(
    _request: Request,
    verifier: string,
    start: FlowStart,
    _meta: unknown,
    callback: (error: Error | null, handle?: string) => void,
  ): void {
    const handle = newBearerSecret();
    this.flows
      .create({
        stateHash: hashSecret(handle),
        purpose: start.purpose,
        provider: start.provider,
        browserHash: start.browserHash,
        sessionId: start.sessionId,
        codeVerifier: verifier,
        nonce: start.nonce,
        returnTo: start.returnTo,
        scopes: [...start.scopes],
        invitationHash: start.invitationHash,
        expiresAt: new Date(this.now().getTime() + this.ttlMs),
      })
      .then(
        () => callback(null, handle),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
  }

  verify(request: Request, state: unknown, _meta: unknown, callback: Callback): void {
    const expectation = expectations.get(request);
    if (expectation === undefined) {
      callback(new Error('a callback ran without a flow expectation'), false);
      return;
    }
    this.check(state, expectation).then(
      (checked) => {
        if ('refusal' in checked) {
          callback(null, false, { message: checked.refusal });
          return;
        }
        verified.set(request, checked.flow);
        callback(null, checked.flow.code_verifier, checked.flow);
      },
      (error: unknown) =>
        callback(error instanceof Error ? error : new Error(String(error)), false),
    );
  }

  /**
   * The same checks for a callback the gateway finishes without passport (a code vault-proxy
   * exchanges): the flow, consumed, or OAUTH_STATE_INVALID saying why not.
   */
  async claim(state: unknown, expectation: FlowExpectation): Promise<FlowRow> {
    const checked = await this.check(state, expectation);
    if ('refusal' in checked) throw new ContractError('OAUTH_STATE_INVALID', checked.refusal);
    return checked.flow;
  }

  private async check(
    state: unknown,
    expectation: FlowExpectation,
  ): Promise<{ flow: FlowRow } | { refusal: string }> {
    if (typeof state !== 'string' || !isBearerSecret(state)) {
      return { refusal: 'the state parameter is missing or malformed' };
    }
    const flow = await this.flows.consume(hashSecret(state), this.now());
    const refusal = refuse(flow, expectation);
    return refusal !== undefined || flow === undefined
      ? { refusal: refusal ?? 'the state is unknown' }
      : { flow };
  }
}

function refuse(flow: FlowRow | undefined, expected: FlowExpectation): string | undefined {
  if (flow === undefined) return 'the state is unknown, already used or expired';
  if (
    !isBearerSecret(expected.browserSecret) ||
    !hashSecret(expected.browserSecret).equals(flow.browser_hash)
  ) {
    return 'the flow was started in another browser';
  }
  if (flow.purpose !== expected.purpose || flow.provider !== expected.provider) {
    return 'the state belongs to another kind of flow';
  }
  if (flow.session_id !== expected.sessionId) return 'the flow was started in another session';
  return undefined;
}
