// The values of the sandbox's network settings (settings.ts `network` and
// `allowHosts`). Each allowed entry reaches the nftables ruleset of the
// sandbox (builder/sh/sandbox-net.sh) as an address or CIDR, so nothing but
// those, or a host name the build host resolves, is let through.
import * as net from "node:net";

/** What the direct backend's sandbox may reach: see docs/sandbox.md. */
export const NETWORK_CHOICES = ["public", "mirror", "none"] as const;
export type NetworkMode = (typeof NETWORK_CHOICES)[number];

/** A build's network settings, as its sandbox runs take them. */
export interface SandboxNetwork {
  mode: NetworkMode;
  allowHosts: readonly string[];
  /** The stack's mirror URL; unset: Debian's, as mmdebstrap writes an image's sources then. */
  mirror?: string;
}

/** Where an image's apt installs from without a mirror setting: mmdebstrap's sources for a stable release. */
export const DEBIAN_MIRRORS = ["http://deb.debian.org/debian", "http://security.debian.org/debian-security"];

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** An allowed entry: an address or CIDR as nftables reads it, or a host name to resolve. */
export type NetworkHost = { cidr: string; family: 4 | 6 } | { name: string };

/** An `allowHosts` entry read, or undefined when it is none of a host name, an IP address, a CIDR. */
export function parseNetworkHost(entry: string): NetworkHost | undefined {
  const [addr, prefix, ...rest] = entry.split("/");
  const family = net.isIP(addr);
  if (family === 4 || family === 6) {
    if (rest.length || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)))) return undefined;
    return { cidr: entry, family };
  }
  return prefix === undefined && HOST_NAME.test(entry) && !/^[\d.]+$/.test(entry) ? { name: entry } : undefined;
}

/** Why an `allowHosts` list is refused (its first bad entry), or undefined. */
export function networkHostsRefusal(hosts: string[]): string | undefined {
  const bad = hosts.find((h) => parseNetworkHost(h) === undefined);
  return bad === undefined ? undefined : `${JSON.stringify(bad)} is not a host name, an IP address or a CIDR such as 10.1.0.0/16`;
}

/**
 * Whether `host` (a URL's host name, or its literal address) is one of
 * `allowHosts`: an entry's name, or an address inside an entry's address or
 * CIDR. A name is not resolved here: it matches a name entry only.
 */
export function inAllowHosts(host: string, allowHosts: readonly string[]): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "").toLowerCase();
  const family = net.isIP(bare);
  return allowHosts.some((entry) => {
    const h = parseNetworkHost(entry);
    if (!h) return false;
    if ("name" in h) return h.name.replace(/\.$/, "").toLowerCase() === bare;
    if (family !== h.family) return false;
    const [addr, prefix] = h.cidr.split("/");
    const list = new net.BlockList();
    list.addSubnet(addr, prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix), family === 4 ? "ipv4" : "ipv6");
    return list.check(bare, family === 4 ? "ipv4" : "ipv6");
  });
}
