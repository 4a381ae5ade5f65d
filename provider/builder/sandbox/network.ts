// The sandbox's network policy as sh/sandbox-run.sh reads it: the mode, the
// mirror's addresses and the allowed ones. Names are resolved here, on the
// build host, when each sandbox run starts: nothing the guest says (its DNS
// answers, its sources.list) widens the policy.
import { lookup } from "node:dns/promises";
import { DEBIAN_MIRRORS, networkHostsRefusal, parseNetworkHost, type SandboxNetwork } from "../../model/nethost";
import { splitUrlCredentials } from "../../model/urlcredentials";

/** A name's addresses on the build host, without zone-scoped ones (link-local is refused anyway). */
async function addressesOf(name: string): Promise<string[]> {
  return (await lookup(name, { all: true })).map((a) => a.address).filter((a) => !a.includes("%"));
}

/**
 * The mirror's addresses as `ADDRESS,PORT`: its URL's port, else 80 and 443
 * (apt may follow a redirect to https). A mirror that does not resolve is
 * left out: its apt fails as it would without the policy.
 */
async function mirrorAddresses(mirror: string | undefined): Promise<string[]> {
  const out: string[] = [];
  for (const raw of mirror ? [mirror] : DEBIAN_MIRRORS) {
    let url: URL;
    try {
      url = new URL(splitUrlCredentials(raw).url);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") continue;
    const ports = url.port ? [url.port] : ["80", "443"];
    const addresses = await addressesOf(url.hostname.replace(/^\[(.*)\]$/, "$1")).catch(() => []);
    for (const address of addresses) for (const port of ports) out.push(`${address},${port}`);
  }
  return out;
}

/** The allowed entries as addresses and CIDRs; a name that does not resolve fails the run. */
async function allowedAddresses(hosts: readonly string[], image: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of hosts) {
    const host = parseNetworkHost(entry);
    if (!host) throw new Error(`image ${JSON.stringify(image)}: allowHosts: ${networkHostsRefusal([entry])}`);
    if ("cidr" in host) {
      out.push(host.cidr);
      continue;
    }
    try {
      out.push(...(await addressesOf(host.name)));
    } catch (err) {
      throw new Error(`image ${JSON.stringify(image)}: allowHosts: ${JSON.stringify(host.name)} does not resolve on the build host ` +
        `(${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give its address, or a name the build host resolves`);
    }
  }
  return out;
}

/** sandbox-run.sh's environment for the policy. */
export async function networkEnv(network: SandboxNetwork, image: string): Promise<Record<string, string>> {
  if (network.mode === "none") return { VM_IMAGES_NET: "none" };
  return {
    VM_IMAGES_NET: network.mode,
    VM_IMAGES_NET_MIRROR: (await mirrorAddresses(network.mirror)).join(" "),
    VM_IMAGES_NET_ALLOW: (await allowedAddresses(network.allowHosts, image)).join(" "),
  };
}
