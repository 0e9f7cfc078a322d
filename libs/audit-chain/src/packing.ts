import type { CheckedMessage, IncomingMessage } from './incoming.js';

/** Messages packed into one transferable buffer, so handing a batch to a worker copies nothing. */
export interface PackedMessages {
  readonly subjects: string[];
  readonly offsets: Uint32Array;
  readonly data: ArrayBuffer;
}

/** Packs messages (one copy into an unpooled buffer, which can then be transferred). */
export function packMessages(messages: readonly IncomingMessage[]): PackedMessages {
  const offsets = new Uint32Array(messages.length + 1);
  let total = 0;
  messages.forEach((message, index) => {
    offsets[index] = total;
    total += message.data.byteLength;
  });
  offsets[messages.length] = total;
  // allocUnsafeSlow: a buffer of its own, never a slice of Node's shared pool.
  const data = Buffer.allocUnsafeSlow(total);
  messages.forEach((message, index) => data.set(message.data, offsets[index]));
  return {
    subjects: messages.map((message) => message.subject),
    offsets,
    data: data.buffer,
  };
}

/** The messages of a packed batch, as views into its buffer. */
export function unpackMessages(packed: PackedMessages): IncomingMessage[] {
  return packed.subjects.map((subject, index) => ({
    subject,
    data: new Uint8Array(
      packed.data,
      packed.offsets[index],
      packed.offsets[index + 1]! - packed.offsets[index]!,
    ),
  }));
}

/** Verdicts with their 32-byte leaf hashes gathered into one transferable buffer. */
export interface PackedResults {
  readonly results: CheckedMessage[];
  readonly leaves: ArrayBuffer;
}

export function packResults(results: readonly CheckedMessage[]): PackedResults {
  const leaves = new Uint8Array(new ArrayBuffer(results.length * 32));
  const light = results.map((result, index) => {
    if (!result.ok) return result;
    leaves.set(result.leafHash, index * 32);
    return { ...result, leafHash: new Uint8Array(0) };
  });
  return { results: light, leaves: leaves.buffer };
}

export function unpackResults(packed: PackedResults): CheckedMessage[] {
  return packed.results.map((result, index) =>
    result.ok ? { ...result, leafHash: new Uint8Array(packed.leaves, index * 32, 32) } : result,
  );
}
