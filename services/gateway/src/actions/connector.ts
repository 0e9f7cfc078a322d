/** One call a connector makes for an action, with the token it may use for it. */
export interface ConnectorCall {
  /** The action's id: the idempotency key of whatever the connector creates. */
  readonly actionId: string;
  readonly type: string;
  /** Parameters as the catalog parsed them. */
  readonly params: unknown;
  /** A short-lived access token for the connection (Google actions; '' for merchants), in memory only. */
  readonly accessToken: string;
}

/** What an action did: the minimised result for the agent, and what undoing it needs. */
export interface ConnectorOutcome {
  readonly result: unknown;
  readonly undoState?: unknown;
}

/** Why a provider refused or failed, as the gateway answers it. */
export type ConnectorFailure =
  /** The object is not there (a wrong id, or deleted meanwhile). */
  | 'not_found'
  /** The token was refused: the connection needs consent again. */
  | 'unauthorized'
  /** The token lacks a scope the call needs. */
  | 'forbidden'
  /** Someone changed it meanwhile (an etag did not match). */
  | 'conflict'
  /** The provider is throttling or down. */
  | 'unavailable'
  /** Any other refusal. */
  | 'failed';

export class ConnectorError extends Error {
  constructor(
    readonly failure: ConnectorFailure,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}

/** Undoing one action: its type, the state kept when it ran, and a token for the call. */
export interface UndoCall {
  readonly type: string;
  readonly undoState: unknown;
  readonly accessToken: string;
}

/** Performs catalog actions against one provider's API, and undoes the reversible ones. */
export interface Connector {
  handles(type: string): boolean;
  execute(call: ConnectorCall): Promise<ConnectorOutcome>;
  undo(call: UndoCall): Promise<void>;
}
