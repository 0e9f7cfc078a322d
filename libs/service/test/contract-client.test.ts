import { createServer, type AddressInfo, type Socket } from 'node:net';
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

  it('fails a ping as UNAVAILABLE within its timeout when the server stops answering (a half-open connection)', async () => {
    // A server that completes the NATS handshake, then never answers again.
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.write(
        'INFO {"server_id":"silent","version":"2.9.10","proto":1,"max_payload":1048576,"headers":true}\r\n',
      );
      let answered = false;
      socket.on('data', (data) => {
        if (!answered && data.toString().includes('PING')) {
          answered = true;
          socket.write('PONG\r\n');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const client = ContractClient.create(
      parseConfig(natsEnvSchema, {
        NATS_URL: `nats://127.0.0.1:${port}`,
        NATS_REQUEST_TIMEOUT_MS: '300',
      }),
      'gateway',
    );
    try {
      await client.connect();
      await expect(client.ping()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await client.close().catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
