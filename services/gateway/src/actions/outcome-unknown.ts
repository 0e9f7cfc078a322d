/**
 * Why an action left `executing` is settled as failed with an unknown outcome: the provider may or
 * may not have done it, so it is never run again, only recorded.
 */
export type OutcomeUnknownReason =
  /** The replica running it is gone: its executor lease is free. */
  | 'executor_gone'
  /** Still running after longer than any call may take (or from before executors were recorded). */
  | 'ran_too_long';

/** An action still `executing` after this long is settled whoever runs it: a backstop. */
export const STALE_AFTER_MS = 10 * 60_000;

/** The error an action settled for `reason` keeps, and a repeated request answers with. */
export function outcomeUnknownError(reason: OutcomeUnknownReason): {
  readonly code: 'UPSTREAM_FAILED';
  readonly message: string;
} {
  return {
    code: 'UPSTREAM_FAILED',
    message:
      reason === 'executor_gone'
        ? 'outcome unknown: the replica executing it stopped while it was running, so whether it took effect is unknown'
        : 'the gateway stopped while this action was running: whether it took effect is unknown',
  };
}
