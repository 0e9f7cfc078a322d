import type { Connection } from '@heroagent/contracts';
import type { VerifiedIdentity } from '../people/people.repository.js';

/** What a finished OAuth flow yields, whichever provider ran it. Never a token. */
export interface ProviderOutcome {
  readonly identity: VerifiedIdentity;
  /** The scopes the person actually granted (they may untick some). */
  readonly grantedScopes: readonly string[];
  /** The connect flow: the connection vault-proxy stored, with exactly the scopes granted. */
  readonly connection?: { readonly connection: Connection; readonly created: boolean };
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
