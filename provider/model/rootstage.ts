// Incremental roots: a root image's disk as it is after package installation
// (before its actions) is kept in the per-user cache, keyed by everything
// that decides it. A root image whose actions alone change starts from that
// disk instead of running mmdebstrap again. Pure: the key, and what of a
// suite's Release file decides what apt resolves.
import { PIPELINE_SOURCES, PIPELINE_VERSION } from "./buildkey";
import { canonicalJson, sha256 } from "./hash";

export interface RootStageInputs {
  suite: string;
  /** The mirror as the image's sources name it (no credentials); unset: mmdebstrap's default. */
  mirror?: string;
  packages: readonly string[];
  bootable: boolean;
  /** The disk's size in bytes. */
  bytes: number;
  /** packageIndexDigest() of the suite's Release file on the mirror now. */
  index: string;
}

export function rootStageKey(i: RootStageInputs): string {
  return sha256(canonicalJson({
    stage: "root after packages",
    pipeline: PIPELINE_VERSION,
    sources: PIPELINE_SOURCES,
    suite: i.suite,
    mirror: i.mirror,
    // As in the build key: order and duplicates do not change what apt installs.
    packages: [...new Set(i.packages)].sort(),
    bootable: i.bootable,
    bytes: i.bytes,
    index: i.index,
  }));
}

/**
 * What of a Release (or InRelease) file decides what apt resolves: the
 * hashes of its package indices (the SHA256 lines naming .../Packages*).
 * Its date, which changes at each publication, does not. Undefined when it
 * lists no package index.
 */
export function packageIndexDigest(release: string): string | undefined {
  const lines: string[] = [];
  let inSha256 = false;
  for (const line of release.split("\n")) {
    if (/^\S/.test(line)) inSha256 = /^SHA256:\s*$/.test(line);
    else if (inSha256 && /^\s+[0-9a-f]{64}\s+\d+\s+\S*\/Packages(\.\w+)?\s*$/.test(line)) lines.push(line.trim().replace(/\s+/g, " "));
  }
  return lines.length ? sha256(lines.sort().join("\n")) : undefined;
}
