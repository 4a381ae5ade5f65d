// Following the Debian archive (the followArchive setting), the pure part:
// which package indices of a Release file an image's apt reads, the
// versions they offer, and which of an image's installed packages the
// archive now has a newer version of, as apt would upgrade them.
import type { AptSource } from "./aptsources";
import { DEBIAN_MIRRORS, inAllowHosts } from "./nethost";
import { splitUrlCredentials } from "./urlcredentials";
import { compareDebVersions } from "./debversion";
import { type InstalledPackage, packageId, stanzas } from "./dpkgstatus";

/** Whom the build host fetches an image's package indices from: the stack's mirror (unset: Debian's) and its allowHosts. */
export interface IndexFetchPolicy {
  mirror?: string;
  allowHosts: readonly string[];
}

/**
 * Why the build host does not fetch the indices of a source an image lists
 * (its sources are the image's own, which its actions may have written), or
 * undefined when it does: only from the mirror (or, without one, Debian's),
 * on its port, or a host of `allowHosts`; a file:// source only when it is
 * the mirror itself.
 */
export function sourceRefusal(uri: string, policy: IndexFetchPolicy): string | undefined {
  const why = "the build host fetches package indices only from the mirror (vm-images:mirror, else Debian's) and the hosts of vm-images:allowHosts";
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `${JSON.stringify(uri)} is not a URL`;
  }
  const trusted = (policy.mirror ? [splitUrlCredentials(policy.mirror).url] : DEBIAN_MIRRORS).map((m) => new URL(m));
  if (url.protocol === "file:") {
    return trusted.some((m) => m.protocol === "file:" && m.pathname.replace(/\/+$/, "") === url.pathname.replace(/\/+$/, "")) ? undefined : `${why}; a file:// source only when it is the mirror`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `${url.protocol} is not http(s)`;
  if (trusted.some((m) => m.host === url.host) || inAllowHosts(url.hostname, policy.allowHosts)) return undefined;
  return `${why}: add ${url.hostname} to vm-images:allowHosts to follow it`;
}

export interface ReleaseFile {
  sha256: string;
  size: number;
}

/** The files a Release (or InRelease) file lists in its SHA256 section, by path. */
export function releaseFiles(release: string): Map<string, ReleaseFile> {
  const out = new Map<string, ReleaseFile>();
  let inSha256 = false;
  for (const line of release.split("\n")) {
    if (/^\S/.test(line)) inSha256 = /^SHA256:\s*$/.test(line);
    else if (inSha256) {
      const m = /^\s+([0-9a-f]{64})\s+(\d+)\s+(\S+)\s*$/.exec(line);
      if (m) out.set(m[3], { sha256: m[1], size: Number(m[2]) });
    }
  }
  return out;
}

export interface IndexFile extends ReleaseFile {
  /** The path under dists/SUITE/. */
  path: string;
  compression: "gz" | "xz" | "none";
}

/** Each Packages index apt reads for `source` on `arch` (and arch "all" where the suite has one), in the best compression the Release lists. */
export function packagesIndexFiles(release: Map<string, ReleaseFile>, source: AptSource, arch: string): IndexFile[] {
  if (source.architectures && !source.architectures.includes(arch)) return [];
  const out: IndexFile[] = [];
  const components = source.components.length ? source.components : [""];
  for (const component of components) {
    for (const a of [arch, "all"]) {
      const base = `${component ? `${component}/` : ""}binary-${a}/Packages`;
      const choice = (["gz", "none", "xz"] as const).map((c) => ({ c, p: c === "none" ? base : `${base}.${c}` })).find(({ p }) => release.has(p));
      if (choice) out.push({ path: choice.p, compression: choice.c, ...release.get(choice.p)! });
    }
  }
  return out;
}

/** The versions each package (name:architecture) has in the given Packages indices' texts. */
export function indexVersions(indexes: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const text of indexes) {
    for (const f of stanzas(text)) {
      const [name, version, architecture] = ["package", "version", "architecture"].map((k) => f.get(k));
      if (!name || !version || !architecture) continue;
      const id = packageId({ name, architecture });
      out.set(id, [...(out.get(id) ?? []), version]);
    }
  }
  return out;
}

export interface ArchiveUpdate {
  name: string;
  architecture: string;
  from: string;
  to: string;
}

/**
 * The installed packages that the archive has a newer version of: the
 * highest version the indices offer, where it sorts after the installed
 * one. A package no index lists (made locally, or gone from the archive) has none.
 */
export function archiveUpdates(installed: readonly InstalledPackage[], versions: Map<string, string[]>): ArchiveUpdate[] {
  const out: ArchiveUpdate[] = [];
  for (const p of installed) {
    const offered = versions.get(packageId(p));
    if (!offered?.length) continue;
    const best = offered.reduce((a, b) => (compareDebVersions(a, b) >= 0 ? a : b));
    if (compareDebVersions(best, p.version) > 0) out.push({ name: p.name, architecture: p.architecture, from: p.version, to: best });
  }
  return out;
}

/** The updates as a reason names them: "openssl 3.0.15-1~deb12u1 -> 3.0.17-1~deb12u2", the first few, then how many more. */
export function describeUpdates(updates: readonly ArchiveUpdate[], shown = 5): string {
  const list = updates.slice(0, shown).map((u) => `${u.name} ${u.from} -> ${u.to}`);
  if (updates.length > shown) list.push(`and ${updates.length - shown} more`);
  return list.join(", ");
}
