import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ContractError } from '@heroagent/contracts';

// Loopback, private, link-local (cloud metadata), carrier-grade NAT, unique-local and unspecified.
const PRIVATE_V4 = [
  /^127\./,
  /^10\./,
  /^192\.168\./,
  /^172\.(1[6-9]|2\d|3[01])\./,
  /^169\.254\./,
  /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./,
  /^0\./,
];
const PRIVATE_V6 = [
  /^::1$/,
  /^::$/,
  /^f[cd]/i,
  /^fe[89ab]/i,
  /^::ffff:(127|10|192\.168|169\.254)\./i,
];

/** True for an address a tenant must not make the audit service call (its own network). */
export function isPrivateAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) return PRIVATE_V4.some((pattern) => pattern.test(address));
  if (version === 6) return PRIVATE_V6.some((pattern) => pattern.test(address));
  return true;
}

/**
 * Refuses SIEM endpoints in the service's own network unless the operator allows them: a tenant
 * admin must not be able to aim the audit service at internal services or cloud metadata. Checked
 * when a destination is configured and again (after DNS resolution) before each export.
 */
export async function assertEndpointAllowed(
  endpoint: string,
  allowPrivate: boolean,
): Promise<void> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ContractError('INVALID_REQUEST', 'the endpoint is not a URL', [
      { path: 'endpoint', message: 'not a URL' },
    ]);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ContractError('INVALID_REQUEST', 'the endpoint must be http or https', [
      { path: 'endpoint', message: 'not http(s)' },
    ]);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ContractError('INVALID_REQUEST', 'put credentials in headers, not in the URL', [
      { path: 'endpoint', message: 'credentials in URL' },
    ]);
  }
  if (allowPrivate) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host)
      ? [host]
      : (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch {
    throw new ContractError('INVALID_REQUEST', `the endpoint host ${host} does not resolve`, [
      { path: 'endpoint', message: 'unresolvable' },
    ]);
  }
  if (addresses.length === 0 || addresses.some(isPrivateAddress)) {
    throw new ContractError(
      'FORBIDDEN',
      `the endpoint ${host} is in a private network, which this deployment does not allow`,
    );
  }
}
