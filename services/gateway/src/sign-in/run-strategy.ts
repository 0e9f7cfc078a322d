import type { Request } from 'express';
import type { Strategy, StrategyCreated } from 'passport';

/** How a passport strategy finished one step of a flow. */
export type StrategyOutcome<User> =
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'success'; readonly user: User }
  | { readonly kind: 'fail'; readonly reason: string };

/** The strategy did not finish within the time allowed (a slow or silent provider). */
export class StrategyTimeout extends Error {
  constructor() {
    super('the identity provider did not answer in time');
    this.name = 'StrategyTimeout';
  }
}

/**
 * Runs one passport strategy step on a request, the way `passport.authenticate` does (a
 * per-request copy of the strategy with success, fail, redirect, pass and error bound), but as a
 * promise with a deadline, so the gateway decides what reaches the browser and a silent provider
 * cannot hold a request open.
 */
export function runStrategy<User>(
  strategy: Strategy,
  request: Request,
  options: Record<string, unknown>,
  timeoutMs: number,
): Promise<StrategyOutcome<User>> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      settle();
    };
    const timer = setTimeout(() => finish(() => reject(new StrategyTimeout())), timeoutMs);
    const step = Object.create(strategy) as StrategyCreated<Strategy>;
    step.success = (user: Express.User) =>
      finish(() => resolve({ kind: 'success', user: user as User }));
    step.fail = (challenge?: unknown) =>
      finish(() => resolve({ kind: 'fail', reason: reasonOf(challenge) }));
    step.redirect = (location: string) => finish(() => resolve({ kind: 'redirect', location }));
    step.pass = () => finish(() => resolve({ kind: 'fail', reason: 'the strategy passed' }));
    step.error = (error: unknown) =>
      finish(() => reject(error instanceof Error ? error : new Error(String(error))));
    try {
      // passport types `authenticate`'s `this` as the bare strategy; it runs on the per-request copy.
      (strategy.authenticate as (this: unknown, req: Request, options?: unknown) => void).call(
        step,
        request,
        options,
      );
    } catch (error) {
      step.error(error);
    }
  });
}

function reasonOf(challenge: unknown): string {
  if (typeof challenge === 'string') return challenge;
  const message = (challenge as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : 'the flow was refused';
}
