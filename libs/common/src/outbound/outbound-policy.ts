import { canonicalIp, classifyAddress, type AddressClass } from './address-ranges';

export interface OutboundPolicyOptions {
  /** Hosts that may be called (see the class); undefined = any host with public addresses only. */
  allowedHosts?: readonly string[];
  /** Tells what an address is. Default classifyAddress; tests mark their own loopback servers. */
  classify?: (address: string) => AddressClass | undefined;
}

/**
 * Who outbound HTTP calls made on behalf of users (the `http` task handler,
 * webhook deliveries) may reach.
 *
 * - Without an allowlist, any host name, as long as every address it
 *   resolves to is public: loopback, private (RFC 1918), link-local, CGNAT,
 *   unique-local, NAT64/6to4/IPv4-mapped forms of those, the other special
 *   ranges and the cloud metadata addresses are refused.
 * - With an allowlist, only the hosts it names (`api.example.com`,
 *   `*.example.com` for subdomains, IP literals `10.0.0.5`, `[fd00::1]`);
 *   naming a host is trusting it, so it may resolve to private addresses.
 *   Metadata addresses stay refused unless the allowlist names the address
 *   itself.
 */
export class OutboundPolicy {
  private readonly allowedHosts: readonly string[] | undefined;
  private readonly classify: (address: string) => AddressClass | undefined;

  constructor({ allowedHosts, classify = classifyAddress }: OutboundPolicyOptions = {}) {
    this.classify = classify;
    const problem = allowedHosts?.map(allowedHostProblem).find((p) => p !== undefined);
    if (problem !== undefined) throw new Error(`outbound allowlist: ${problem}`);
    this.allowedHosts = allowedHosts?.map(normalizeEntry);
  }

  /** Why `hostname` (a URL's, brackets and all) may not be called before any lookup, or undefined. */
  refusalOfHost(hostname: string): string | undefined {
    const host = normalizeHost(hostname);
    if (this.allowedHosts !== undefined && !this.isListed(host)) {
      return `host ${hostname} is not in the allowed hosts (${this.allowedHosts.join(', ')})`;
    }
    return canonicalIp(host) === undefined ? undefined : this.refusalOfAddress(hostname, host);
  }

  /** Why `hostname` may not be reached at `address` (one of its resolved addresses), or undefined. */
  refusalOfAddress(hostname: string, address: string): string | undefined {
    const kind = this.classify(address);
    if (kind === undefined) return `host ${hostname} resolved to ${address}, not an IP address`;
    const host = normalizeHost(hostname);
    const at = canonicalIp(host) === undefined ? `host ${hostname} resolves to ${address}, ` : '';
    if (kind.kind === 'metadata' && !this.isListed(canonicalIp(address) ?? address)) {
      return `${at}${address} is a cloud metadata address, which may not be called unless the allowed hosts name it`;
    }
    if (kind.kind === 'special' && !this.isListed(host)) {
      return `${at}${address} is a ${kind.range} address, which may not be called unless the allowed hosts name ${at === '' ? 'it' : 'the host'}`;
    }
    return undefined;
  }

  private isListed(host: string): boolean {
    return this.allowedHosts?.some((entry) => hostMatches(entry, host)) ?? false;
  }
}

/** Why an allowlist entry is malformed, or undefined. */
export function allowedHostProblem(entry: string): string | undefined {
  if (canonicalIp(entry) !== undefined) return undefined;
  const name = entry.startsWith('*.') ? entry.slice(2) : entry;
  const labels = name.split('.');
  const valid =
    name.length <= 253 &&
    labels.every((label) => /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label));
  return valid
    ? undefined
    : `"${entry}" is not a host name, *.domain pattern or IP address (no scheme, no port)`;
}

function normalizeEntry(entry: string): string {
  return canonicalIp(entry) ?? entry.toLowerCase().replace(/\.$/, '');
}

/** Lower case, no trailing dot, one spelling for IP literals (without brackets). */
function normalizeHost(hostname: string): string {
  return canonicalIp(hostname) ?? hostname.toLowerCase().replace(/\.$/, '');
}

function hostMatches(entry: string, host: string): boolean {
  if (entry.startsWith('*.')) {
    return host.endsWith(entry.slice(1)) && host.length > entry.length - 1;
  }
  return entry === host;
}
