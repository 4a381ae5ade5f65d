// What an image's own dpkg database says is installed: the packages of
// /var/lib/dpkg/status whose state is "installed" (dpkg-query -W lists
// the same, less those removed but whose configuration files are kept),
// each with its version, architecture and source package.
import { canonicalJson, sha256 } from "./hash";

export interface InstalledPackage {
  name: string;
  version: string;
  architecture: string;
  /** The source package, and its version when it differs from the binary's (a binNMU). */
  source: string;
  sourceVersion: string;
}

/** The stanzas of a deb822 file (a dpkg status file, a Packages index): fields by name, continuation lines joined. */
export function* stanzas(text: string): Generator<Map<string, string>> {
  for (const block of text.split(/\n[ \t]*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of block.split("\n")) {
      if (/^[ \t]/.test(line) && last) fields.set(last, `${fields.get(last)}\n${line.trim()}`);
      else {
        const m = /^([A-Za-z0-9][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
        if (m) fields.set((last = m[1].toLowerCase()), m[2].trim());
      }
    }
    if (fields.size) yield fields;
  }
}

/** The installed packages of a dpkg status file's text, sorted by name then architecture. */
export function installedPackages(status: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const f of stanzas(status)) {
    const name = f.get("package");
    const version = f.get("version");
    const state = f.get("status")?.split(/\s+/)[2];
    if (!name || !version || state !== "installed") continue;
    const src = /^(\S+)(?:\s+\((\S+)\))?/.exec(f.get("source") ?? "");
    out.push({ name, version, architecture: f.get("architecture") ?? "", source: src?.[1] ?? name, sourceVersion: src?.[2] ?? version });
  }
  return out.sort((a, b) => (a.name === b.name ? cmp(a.architecture, b.architecture) : cmp(a.name, b.name)));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A package's identity across images: dpkg's name, qualified by architecture. */
export const packageId = (p: { name: string; architecture: string }) => `${p.name}:${p.architecture}`;

/** The `packages` output: how many, and a digest of the whole set (names, versions, architectures, sources). */
export function packagesSummary(packages: readonly InstalledPackage[]): { count: number; digest: string } {
  const rows = [...packages].map((p) => [p.name, p.version, p.architecture, p.source, p.sourceVersion]).sort((a, b) => cmp(a.join("\t"), b.join("\t")));
  return { count: packages.length, digest: `sha256:${sha256(canonicalJson(rows))}` };
}

export interface PackageDelta {
  added: InstalledPackage[];
  removed: InstalledPackage[];
  changed: { from: InstalledPackage; to: InstalledPackage }[];
}

/** What `child` has that `parent` has not, and the reverse, and what changed version, by name and architecture. */
export function packageDelta(parent: readonly InstalledPackage[], child: readonly InstalledPackage[]): PackageDelta {
  const before = new Map(parent.map((p) => [packageId(p), p]));
  const after = new Map(child.map((p) => [packageId(p), p]));
  const delta: PackageDelta = { added: [], removed: [], changed: [] };
  for (const [id, p] of after) {
    const old = before.get(id);
    if (!old) delta.added.push(p);
    else if (old.version !== p.version) delta.changed.push({ from: old, to: p });
  }
  for (const [id, p] of before) if (!after.has(id)) delta.removed.push(p);
  return delta;
}

/** The files sh/installed-packages.sh printed, by path: each after its "@@vm-images file PATH" line, its lines after a "|". */
export function guestReportFiles(report: string): { path: string; text: string }[] {
  const out: { path: string; lines: string[] }[] = [];
  for (const line of report.split("\n")) {
    if (line.startsWith("@@vm-images file ")) out.push({ path: line.slice("@@vm-images file ".length).trim(), lines: [] });
    else if (line.startsWith("|") && out.length) out[out.length - 1].lines.push(line.slice(1));
  }
  return out.map((f) => ({ path: f.path, text: f.lines.length ? `${f.lines.join("\n")}\n` : "" }));
}
