// The stack's `summary` output (index.ts) as the table `npm start` ends
// with: per image, what the update did, its architecture, its build time (with the boot
// check's share), its disk's size, its file's size (with the bytes it takes
// on disk, and an overlay's share of its flat file's), how many packages
// its dpkg database lists (its SBOM beside it lists them) and its
// content digest, shortened as git shortens commits (the stack output
// `images` has it whole). Pure.

/** One image's entry of the summary output; a field is missing for an image that was not built here. */
export interface ImageSummary {
  result: string;
  /** The Debian architecture (unset in a state written before it was recorded: amd64). */
  arch?: string;
  seconds?: number;
  bootCheckSeconds?: number;
  sizeBytes?: number;
  allocatedBytes?: number;
  /** The disk's size as the guest sees it. */
  virtualBytes?: number;
  /** For an overlay: what the same image took on disk as a standalone file. */
  flatBytes?: number;
  /** "sha256:<64 hex>". */
  digest?: string;
  /** How many packages its dpkg database lists. */
  packages?: number;
}

/** The digest's first 12 hex digits, as "sha256:<12 hex>"; "-" when unknown. */
export function shortDigest(digest: string | undefined): string {
  return typeof digest === "string" && digest.startsWith("sha256:") ? digest.slice(0, "sha256:".length + 12) : "-";
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** A size in binary units, one decimal above bytes; "-" when unknown. */
export function bytes(n: number | undefined): string {
  if (typeof n !== "number") return "-";
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${UNITS[i]}`;
}

/** The file's size and what it takes on disk; for an overlay, that as a share of its flat file's. */
function fileColumn(s: ImageSummary): string {
  const flat = typeof s.flatBytes === "number" && s.flatBytes > 0 && typeof s.allocatedBytes === "number"
    ? `, ${Math.max(1, Math.round((100 * s.allocatedBytes) / s.flatBytes))}% of flat ${bytes(s.flatBytes)}`
    : "";
  return `${bytes(s.sizeBytes)} (${bytes(s.allocatedBytes)}${flat})`;
}

/** The summary as aligned columns under a header line, in the output's order. */
export function summaryTable(summary: Record<string, ImageSummary>): string {
  const rows = [["image", "result", "arch", "build time", "disk", "file (on disk)", "packages", "digest"]];
  for (const [name, s] of Object.entries(summary)) {
    const time = typeof s.seconds === "number" ? `${s.seconds.toFixed(1)} s` : "-";
    const boot = typeof s.bootCheckSeconds === "number" ? ` (boot check ${s.bootCheckSeconds.toFixed(1)} s)` : "";
    rows.push([name, s.result, s.arch ?? "amd64", time + boot, bytes(s.virtualBytes), fileColumn(s), typeof s.packages === "number" ? String(s.packages) : "-", shortDigest(s.digest)]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
}
