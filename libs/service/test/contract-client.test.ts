import { describe, expect, it } from 'vitest';
import { ContractClient, natsEnvSchema, parseConfig } from '../src/index.js';
import { startNatsServer } from '../src/testing/index.js';

describe('ContractClient', { timeout: 30_000 }, () => {
  it('tells when its connection to the NATS server is lost (events published meanwhile are not heard)', async () => {
    const nats = await startNatsServer();
    const client = ContractClient.create(
      parseConfig(natsEnvSchema, { NATS_URL: nats.url }),
      'gateway',
    );
    await client.connect();
    let losses = 0;
    const lost = new Promise<void>((resolve) => {
      void client.onDisconnect(() => {
        losses += 1;
        resolve();
      });
    });
    await client.ping();
    expect(losses).toBe(0);
    await nats.stop();
    await lost;
    expect(losses).toBe(1);
    await client.close();
  });
});
