import type { VerifiedIdentity } from '../people/people.repository.js';

/** What a finished OAuth flow yields, whichever provider ran it. */
export interface ProviderOutcome {
  readonly identity: VerifiedIdentity;
  /** Present when offline access was granted (the connect flow); never logged, never stored here. */
  readonly refreshToken: string | undefined;
  /** The scopes the person actually granted (they may untick some). */
  readonly grantedScopes: readonly string[];
}

/** The options one strategy step runs with. */
export interface StepOptions {
  readonly callbackURL: string;
  /** On the way out: what the flow row records (the state store's input). */
  readonly state?: unknown;
  readonly scope?: readonly string[];
  readonly nonce?: string;
  readonly prompt?: string;
  readonly accessType?: 'offline';
  readonly includeGrantedScopes?: boolean;
  readonly loginHint?: string;
}
