import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Known cloud metadata and host-agent addresses. They hand out credentials,
 * so reaching one is refused even for an allowed host name: only an
 * allowlist entry naming the address itself opens it. 168.63.129.16
 * (Azure's wire server) lies in public space, outside every special range.
 */
export const METADATA_ADDRESSES: readonly string[] = [
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle…
  '169.254.170.2', // AWS ECS task metadata
  '169.254.169.123', // AWS time sync
  '169.254.0.23', // Tencent Cloud
  '100.100.100.200', // Alibaba Cloud
  '168.63.129.16', // Azure wire server
  '192.0.0.192', // Oracle Cloud (classic)
  'fd00:ec2::254', // AWS, IPv6
];

const METADATA = new Set(METADATA_ADDRESSES.map((address) => ipaddr.parse(address).toString()));

/** Special ranges ipaddr.js does not name (it calls them unicast). */
const EXTRA_BLOCKED: readonly [ipaddr.IPv6, number][] = [
  ipaddr.IPv6.parseCIDR('64:ff9b:1::/48'), // local-use NAT64 (RFC 8215)
  ipaddr.IPv6.parseCIDR('fec0::/10'), // site-local, deprecated but still routed by some stacks
];

/** What an address is, for the outbound policy. */
export interface AddressClass {
  /** `public`: ordinary unicast; `special`: a range of its own; `metadata`: METADATA_ADDRESSES. */
  readonly kind: 'public' | 'special' | 'metadata';
  /** The range, for messages: `loopback`, `private`, `linkLocal`, `carrierGradeNat`, `ipv4Mapped of loopback`, … */
  readonly range: string;
}

/**
 * Classifies an IP address (ipaddr.js's special-purpose ranges plus the few
 * above). IPv6 forms that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`,
 * NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, IPv4-compatible `::a.b.c.d`) are
 * judged by that IPv4 address; Teredo is special as a whole (its client
 * address is obfuscated). Undefined for a string that is not an IP address.
 */
export function classifyAddress(address: string): AddressClass | undefined {
  const bare = bareIp(address);
  return bare === undefined ? undefined : classOf(ipaddr.parse(bare));
}

function classOf(parsed: ipaddr.IPv4 | ipaddr.IPv6): AddressClass {
  if (METADATA.has(parsed.toString())) return { kind: 'metadata', range: 'metadata' };
  if (parsed.kind() === 'ipv4') return ofRange((parsed as ipaddr.IPv4).range());
  const v6 = parsed as ipaddr.IPv6;
  const embedded = embeddedIpv4(v6);
  if (embedded !== undefined) {
    const inner = classOf(embedded);
    const outer = v6.range() === 'unicast' ? 'ipv4Compatible' : v6.range();
    return inner.kind === 'public'
      ? inner
      : { kind: inner.kind, range: `${outer} of ${inner.range}` };
  }
  if (EXTRA_BLOCKED.some((range) => v6.match(range))) return { kind: 'special', range: 'reserved' };
  return ofRange(v6.range());
}

function ofRange(range: string): AddressClass {
  return range === 'unicast' ? { kind: 'public', range } : { kind: 'special', range };
}

/** The IPv4 address an IPv6 address carries by construction, if any. */
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = address.range();
  const bytes = address.toByteArray();
  if (range === 'ipv4Mapped' || range === 'rfc6145' || range === 'rfc6052') {
    return new ipaddr.IPv4(bytes.slice(12, 16));
  }
  if (range === '6to4') return new ipaddr.IPv4(bytes.slice(2, 6));
  // IPv4-compatible `::a.b.c.d` (deprecated): ::/96 beyond `::` and `::1`.
  if (bytes.slice(0, 12).every((byte) => byte === 0) && range === 'unicast') {
    return new ipaddr.IPv4(bytes.slice(12, 16));
  }
  return undefined;
}

/** An IP literal in one spelling (`[::1]`, `::1`, `0:0::1` → `::1`), or undefined. */
export function canonicalIp(value: string): string | undefined {
  const bare = bareIp(value);
  return bare === undefined ? undefined : ipaddr.parse(bare).toString();
}

/** The address without URL brackets when it is a strict IP literal (dotted quad or IPv6). */
function bareIp(value: string): string | undefined {
  const bare = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  return isIP(bare) === 0 ? undefined : bare;
}
