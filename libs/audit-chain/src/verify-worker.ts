// Worker thread entry of VerifierPool: checks batches of incoming audit events.
import { parentPort, workerData } from 'node:worker_threads';
import { IncomingChecker, type TrustedKey } from './incoming.js';
import { packResults, unpackMessages, type PackedMessages } from './packing.js';

let checker = new IncomingChecker((workerData as { keys: TrustedKey[] }).keys);

parentPort?.on(
  'message',
  (
    message:
      { type: 'keys'; keys: TrustedKey[] } | { type: 'check'; id: number; packed: PackedMessages },
  ) => {
    if (message.type === 'keys') {
      checker = new IncomingChecker(message.keys);
      return;
    }
    try {
      const results = unpackMessages(message.packed).map((incoming) => checker.check(incoming));
      const packed = packResults(results);
      parentPort?.postMessage({ id: message.id, packed }, [packed.leaves]);
    } catch (error) {
      parentPort?.postMessage({
        id: message.id,
        error: error instanceof Error ? error.message : 'verification failed',
      });
    }
  },
);
