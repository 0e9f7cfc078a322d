import { describe, expect, it } from 'vitest';
import { ContractError } from '@heroagent/contracts';
import { assertEndpointAllowed, isPrivateAddress } from './destination-guard.js';
import { backoffMs } from './siem.streamer.js';

describe('SIEM destination guard', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '192.168.0.10',
    '172.16.5.4',
    '172.31.255.255',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
  ])('treats %s as private', (address) => expect(isPrivateAddress(address)).toBe(true));

  it.each(['8.8.8.8', '172.32.0.1', '100.128.0.1', '2001:4860:4860::8888'])(
    'treats %s as public',
    (address) => expect(isPrivateAddress(address)).toBe(false),
  );

  it('refuses loopback and metadata endpoints unless the operator allows private networks', async () => {
    for (const endpoint of [
      'http://127.0.0.1:4318/v1/logs',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/v1/logs',
      'http://localhost:4318/v1/logs',
    ]) {
      await expect(assertEndpointAllowed(endpoint, false)).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect(assertEndpointAllowed(endpoint, true)).resolves.toBeUndefined();
    }
  });

  it('refuses other schemes and credentials in the URL', async () => {
    await expect(
      assertEndpointAllowed('ftp://collector.example/v1/logs', true),
    ).rejects.toBeInstanceOf(ContractError);
    await expect(
      assertEndpointAllowed('https://user:secret@collector.example/v1/logs', true),
    ).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
  });

  it('backs off exponentially with jitter, capped at five minutes', () => {
    expect(backoffMs(1, 0.5)).toBe(1000);
    expect(backoffMs(4, 0.5)).toBe(8000);
    expect(backoffMs(30, 0.5)).toBe(300_000);
    expect(backoffMs(3, 0)).toBe(3200);
    expect(backoffMs(3, 1)).toBe(4800);
  });
});
