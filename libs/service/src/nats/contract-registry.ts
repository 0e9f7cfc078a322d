import type { RpcContract } from '@heroagent/contracts';

const bySubject = new Map<string, RpcContract>();

/** Records the contract a handler is bound to, so the server can check who may call its subject. */
export function registerRpcContract(contract: RpcContract): void {
  const known = bySubject.get(contract.subject);
  // The same contract may be loaded twice (a source and a built copy of a package): only a
  // disagreement on who may call the subject is a bug.
  if (known !== undefined && known.callers.join() !== contract.callers.join()) {
    throw new Error(`two contracts with different callers are bound to ${contract.subject}`);
  }
  bySubject.set(contract.subject, contract);
}

/** The contract bound to a subject by an `@RpcHandler`, if any. */
export function rpcContractOf(subject: string): RpcContract | undefined {
  return bySubject.get(subject);
}
