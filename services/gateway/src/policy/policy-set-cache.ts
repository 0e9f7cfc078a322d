import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { ParsedPolicy } from './policy-text.js';

/**
 * Policy sets parsed once and kept inside cedar-wasm (`preparsePolicySet`), looked up by the text
 * they came from. cedar-wasm cannot forget a preparsed set, only overwrite one, so the cache owns
 * a fixed number of slots shared by every engine in the process and reuses the least recently
 * used one: memory stays bounded however many tenants and policy versions pass through.
 */

/** A policy set ready for `statefulIsAuthorized`, with its policies in reporting order. */
export interface PreparsedPolicySet {
  slot: string;
  /** Cedar's policy id → the policy; ids are internal (`tenant/…`, `default/…`). */
  policies: ReadonlyMap<string, ParsedPolicy>;
  /** Cedar ids in the order decisions report them: tenant policies first, in text order. */
  order: readonly string[];
}

export type CompiledPolicySet =
  { ok: true; set: PreparsedPolicySet } | { ok: false; problems: string[] };

const SLOT_PREFIX = 'heroagent-policy-set-';
const CAPACITY = 256;

const entries = new Map<string, CompiledPolicySet>();
const freeSlots: string[] = [];
let slotsMade = 0;

function claimSlot(): string {
  while (freeSlots.length === 0 && slotsMade >= CAPACITY) {
    const oldest = entries.keys().next();
    if (oldest.done === true) break;
    release(oldest.value);
  }
  return freeSlots.pop() ?? `${SLOT_PREFIX}${slotsMade++}`;
}

function release(key: string): void {
  const entry = entries.get(key);
  entries.delete(key);
  if (entry?.ok === true) freeSlots.push(entry.set.slot);
}

function preparse(policies: ReadonlyMap<string, ParsedPolicy>): CompiledPolicySet {
  const slot = claimSlot();
  const staticPolicies = Object.fromEntries(
    [...policies].map(([key, policy]) => [key, policy.text]),
  );
  const answer = cedar.preparsePolicySet(slot, { staticPolicies });
  if (answer.type === 'failure') {
    freeSlots.push(slot);
    return { ok: false, problems: answer.errors.map((error) => `syntax-error: ${error.message}`) };
  }
  return { ok: true, set: { slot, policies, order: [...policies.keys()] } };
}

/**
 * The compiled set for `key`, compiling it on a miss. `compile` returns the policies in reporting
 * order keyed by Cedar id, or the problems that keep the text from being used.
 */
export function compiledPolicySet(
  key: string,
  compile: () =>
    { ok: true; policies: Map<string, ParsedPolicy> } | { ok: false; problems: string[] },
): CompiledPolicySet {
  const cached = entries.get(key);
  if (cached !== undefined) {
    entries.delete(key);
    entries.set(key, cached);
    return cached;
  }
  const compiled = compile();
  const entry = compiled.ok ? preparse(compiled.policies) : compiled;
  while (entries.size >= CAPACITY) {
    const oldest = entries.keys().next();
    if (oldest.done === true) break;
    release(oldest.value);
  }
  entries.set(key, entry);
  return entry;
}
