import { BlockList, isIP } from 'node:net';

/**
 * Addresses an HTTP task must not reach unless explicitly allowed: link-local
 * ranges, where every cloud's instance metadata service lives (credentials!).
 * IPv4-mapped IPv6 forms (`::ffff:169.254.169.254`) are matched by BlockList.
 */
const linkLocal = new BlockList();
linkLocal.addSubnet('169.254.0.0', 16, 'ipv4');
linkLocal.addSubnet('fe80::', 10, 'ipv6');
// AWS's IPv6 metadata endpoint sits outside fe80::/10.
linkLocal.addAddress('fd00:ec2::254', 'ipv6');

/** An IP literal as URL.hostname spells it (`[::1]`) or as DNS returns it (`::1`). */
export function isLinkLocalOrMetadata(address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(bare);
  if (family === 0) {
    return false;
  }
  return linkLocal.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** The bare IP of a URL hostname when it is a literal address, else undefined. */
export function ipLiteral(hostname: string): string | undefined {
  const bare =
    hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) === 0 ? undefined : bare;
}
