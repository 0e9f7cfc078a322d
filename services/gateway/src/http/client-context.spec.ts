import { describe, expect, it } from 'vitest';
import { CLIENT_USER_AGENT_MAX, clientContextSchema } from '@heroagent/contracts';
import { clientOf } from './client-context.js';

const request = (ip: string | undefined, userAgent?: string | string[]) => ({
  ip,
  headers: userAgent === undefined ? {} : { 'user-agent': userAgent as string },
});

describe('the client an audit event records', () => {
  it('keeps an address and a user agent', () => {
    expect(clientOf(request('203.0.113.9', 'Firefox/140.0'))).toEqual({
      ip: '203.0.113.9',
      userAgent: 'Firefox/140.0',
    });
    expect(clientOf(request('2001:db8::1'))).toEqual({ ip: '2001:db8::1' });
  });

  it('writes an IPv4-mapped IPv6 address as IPv4', () => {
    expect(clientOf(request('::ffff:198.51.100.4'))).toEqual({ ip: '198.51.100.4' });
    expect(clientOf(request('::ffff:c633:6404'))).toEqual({ ip: '::ffff:c633:6404' });
  });

  it.each(['unknown', '1.2.3.4, 5.6.7.8', '<script>', '999.1.1.1', '', 'fe80::1%eth0', '1.2.3.04'])(
    'leaves out a forwarded "address" that is not one: %j',
    (ip) => {
      expect(clientOf(request(ip, 'x'))).toEqual({ userAgent: 'x' });
    },
  );

  it('cuts a long user agent, drops an empty one, and always fits the event schema', () => {
    const long = clientOf(request('203.0.113.9', 'A'.repeat(10_000)));
    expect(long.userAgent).toHaveLength(CLIENT_USER_AGENT_MAX);
    expect(clientOf(request(undefined, ''))).toEqual({});
    for (const client of [long, clientOf(request('::1', 'ü\u0000\u202e'))]) {
      expect(clientContextSchema.parse(client)).toEqual(client);
    }
  });
});
