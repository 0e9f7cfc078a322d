// Worker thread entry of VerifierPool: checks batches of incoming audit events.
import { parentPort, workerData } from 'node:worker_threads';
import { IncomingChecker, type IncomingMessage, type TrustedKey } from './incoming.js';

let checker = new IncomingChecker((workerData as { keys: TrustedKey[] }).keys);

parentPort?.on(
  'message',
  (
    message:
      | { type: 'keys'; keys: TrustedKey[] }
      | { type: 'check'; id: number; messages: IncomingMessage[] },
  ) => {
    if (message.type === 'keys') {
      checker = new IncomingChecker(message.keys);
      return;
    }
    try {
      parentPort?.postMessage({
        id: message.id,
        results: message.messages.map((incoming) => checker.check(incoming)),
      });
    } catch (error) {
      parentPort?.postMessage({
        id: message.id,
        error: error instanceof Error ? error.message : 'verification failed',
      });
    }
  },
);
