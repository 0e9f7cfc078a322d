import { BlockList, isIP } from 'node:net';

function blockList(family: 'ipv4' | 'ipv6', subnets: readonly (readonly [string, number])[]) {
  const list = new BlockList();
  for (const [network, prefix] of subnets) list.addSubnet(network, prefix, family);
  return list;
}

/**
 * IPv4 a destination must not be (IANA IPv4 special-purpose registry, not globally reachable or
 * reserved): this network, private, carrier-grade NAT, loopback, link-local (cloud metadata),
 * IETF protocol assignments, documentation, the old 6to4 relay, benchmarking, multicast and
 * 240/4 (with the broadcast address).
 */
const SPECIAL_V4 = blockList('ipv4', [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
]);

/** IPv6 global unicast: everything else (loopback, unique-local, link-local, multicast, …) is not. */
const GLOBAL_UNICAST_V6 = blockList('ipv6', [['2000::', 3]]);

/**
 * Inside global unicast, the IANA IPv6 special-purpose ranges that are not a destination: IETF
 * protocol assignments (Teredo, benchmarking, ORCHID…), documentation (both prefixes).
 */
const SPECIAL_V6 = blockList('ipv6', [
  ['2001::', 23],
  ['2001:db8::', 32],
  ['3fff::', 20],
]);

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** The 16 bytes of an IPv6 address, parsed by the WHATWG URL parser (which also normalizes it). */
function ipv6Bytes(address: string): number[] | undefined {
  let hostname: string;
  try {
    hostname = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [head = '', tail] = hostname.split('::');
  const groups = (text: string) => (text === '' ? [] : text.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const hextets = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return hextets.flatMap((hextet) => {
    const value = Number.parseInt(hextet, 16);
    return [value >> 8, value & 0xff];
  });
}

const startsWith = (bytes: readonly number[], prefix: readonly number[]) =>
  prefix.every((byte, index) => bytes[index] === byte);

/**
 * The IPv4 address an IPv6 address carries to an IPv4 host, which is where a connection to it
 * ends: IPv4-mapped (`::ffff:a.b.c.d`), NAT64 well-known prefix (`64:ff9b::a.b.c.d`) and 6to4
 * (`2002:AABB:CCDD::/48`).
 */
function embeddedIPv4(bytes: readonly number[]): string | undefined {
  const dotted = (offset: number) => bytes.slice(offset, offset + 4).join('.');
  if (startsWith(bytes, [...Array<number>(10).fill(0), 0xff, 0xff])) return dotted(12);
  if (startsWith(bytes, [0x00, 0x64, 0xff, 0x9b, ...Array<number>(8).fill(0)])) return dotted(12);
  if (startsWith(bytes, [0x20, 0x02])) return dotted(2);
  return undefined;
}

/**
 * True for an address a tenant must not make the audit service call: anything not globally
 * reachable (its own network, cloud metadata, loopback, multicast, reserved…), including an IPv6
 * form that reaches such an IPv4 address. Anything that is not an address at all counts too.
 */
export function isPrivateAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) return SPECIAL_V4.check(address, 'ipv4');
  // A zone index (fe80::1%eth0) scopes an address to this host's links.
  if (version !== 6 || address.includes('%')) return true;
  const bytes = ipv6Bytes(address);
  if (bytes === undefined) return true;
  const embedded = embeddedIPv4(bytes);
  if (embedded !== undefined) return SPECIAL_V4.check(embedded, 'ipv4');
  return !GLOBAL_UNICAST_V6.check(address, 'ipv6') || SPECIAL_V6.check(address, 'ipv6');
}

/** True for a loopback address (127.0.0.0/8, ::1, or one mapped to 127.0.0.0/8). */
export function isLoopbackAddress(address: string): boolean {
  const version = isIP(address);
  return version !== 0 && LOOPBACK.check(address, version === 4 ? 'ipv4' : 'ipv6');
}
