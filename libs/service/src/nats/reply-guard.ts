import type { RpcContract } from '@heroagent/contracts';
import { inboxPrefixOf } from './subjects.js';

/** Why a request was dropped unanswered, its handler not called. */
export type RequestRefusal =
  /** No reply subject: nobody would read an answer, and the work would be done for no one. */
  | 'NO_REPLY_SUBJECT'
  /** No contract is bound to the subject, so nobody is known to be allowed to call it. */
  | 'NO_CONTRACT'
  /** The reply subject is not under the inbox of a caller the contract names. */
  | 'REPLY_OUTSIDE_CALLER_INBOX';

// One or more literal tokens: no wildcard, no whitespace, no empty token.
const TOKENS = String.raw`(?:\.[^.\s*>]+)+`;
const patterns = new WeakMap<RpcContract, RegExp>();

/**
 * Whether a request to `contract` may be answered on `reply`: only under `_INBOX.<caller>.` for a
 * caller the contract names. Answering anywhere else would let a caller make this service publish
 * onto subjects it may not publish to itself (another service's inbox, `audit.events.*`,
 * `$JS.API.*`), with this service's permissions.
 */
export function refusalOf(
  contract: RpcContract | undefined,
  reply: string | undefined,
): RequestRefusal | undefined {
  if (reply === undefined || reply === '') return 'NO_REPLY_SUBJECT';
  if (contract === undefined) return 'NO_CONTRACT';
  let pattern = patterns.get(contract);
  if (pattern === undefined) {
    const inboxes = contract.callers.map((caller) => escape(inboxPrefixOf(caller)));
    pattern = new RegExp(`^(?:${inboxes.join('|')})${TOKENS}$`);
    patterns.set(contract, pattern);
  }
  return pattern.test(reply) ? undefined : 'REPLY_OUTSIDE_CALLER_INBOX';
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}
