import { lookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { ContractError } from '@heroagent/contracts';
import { isPrivateAddress } from './special-addresses.js';

/** Every address a host name resolves to. */
export type Resolver = (host: string) => Promise<readonly LookupAddress[]>;

const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) =>
    lookup(host, { all: true, order: 'verbatim' }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

/** An endpoint that passed the guard, with the addresses it was checked at: the only ones used. */
export interface CheckedEndpoint {
  readonly url: URL;
  /** The host name without IPv6 brackets. */
  readonly host: string;
  readonly addresses: readonly LookupAddress[];
}

/**
 * Answers the checked addresses for the checked host, and nothing for any other name: a
 * connection goes where the guard looked, however the name resolves by then (DNS rebinding).
 * TLS still names the host (SNI, certificate check), since the URL keeps it.
 */
function pinnedLookup(checked: CheckedEndpoint): LookupFunction {
  return (hostname, options, callback) => {
    const family = { 4: 4, 6: 6, IPv4: 4, IPv6: 6 }[options.family ?? 0] ?? 0;
    const addresses = checked.addresses.filter((entry) => family === 0 || entry.family === family);
    if (hostname !== checked.host || addresses.length === 0) {
      const error: NodeJS.ErrnoException = new Error(`${hostname} is not the checked host`);
      error.code = 'ENOTFOUND';
      callback(error, '', 0);
    } else if (options.all === true) {
      callback(null, [...addresses]);
    } else {
      callback(null, addresses[0]!.address, addresses[0]!.family);
    }
  };
}

/**
 * Refuses SIEM and webhook endpoints in the service's own network unless the operator allows
 * them: a tenant admin must not be able to aim the audit service at internal services or cloud
 * metadata. Checked when a destination is configured and again before each send, at every
 * address the name resolves to; the send then connects only to those addresses
 * ({@link lookupFor}), so a name cannot answer one address to the check and another to
 * the connection.
 */
export class DestinationGuard {
  private readonly resolve: Resolver;

  constructor(
    readonly allowPrivateNetworks: boolean,
    resolve?: Resolver,
  ) {
    this.resolve = resolve ?? systemResolver;
  }

  async check(endpoint: string): Promise<CheckedEndpoint> {
    const url = parseEndpoint(endpoint);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: readonly LookupAddress[];
    try {
      const version = isIP(host);
      addresses = version === 0 ? await this.resolve(host) : [{ address: host, family: version }];
    } catch {
      addresses = [];
    }
    if (addresses.length === 0) {
      throw new ContractError('INVALID_REQUEST', `the endpoint host ${host} does not resolve`, [
        { path: 'endpoint', message: 'unresolvable' },
      ]);
    }
    if (!this.allowPrivateNetworks && addresses.some(({ address }) => isPrivateAddress(address))) {
      throw new ContractError(
        'FORBIDDEN',
        `the endpoint ${host} is in a private network, which this deployment does not allow`,
      );
    }
    return { url, host, addresses };
  }

  /**
   * The `lookup` for node's http(s) agent or request that sends to `checked`: connections go to
   * a checked address only. Give it to a fresh agent, never a pooled one (whose sockets may
   * have been opened for an earlier check).
   */
  lookupFor(checked: CheckedEndpoint): LookupFunction {
    return pinnedLookup(checked);
  }
}

function parseEndpoint(endpoint: string): URL {
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
  return url;
}
