// Incremental roots: a root image's disk as it is after package installation
// (before its actions) is kept in the per-user cache, keyed by everything
// that decides it. A root image whose actions alone change starts from that
// disk instead of running mmdebstrap again, as long as none of the package
// indices its apt resolved from has changed on the mirror since. Pure: the
// key, which of the image's sources apt read, and what of a Release file
// decides what apt resolves.
import { aptQuote } from "./aptquote";
import { releaseFiles } from "./archive";
import { oneLineSources } from "./aptsources";
import { PIPELINE_SOURCES, PIPELINE_VERSION } from "./buildkey";
import { canonicalJson, sha256 } from "./hash";

export interface RootStageInputs {
  /** The Debian architecture; unset or amd64 keeps the keys stages had before the setting. */
  arch?: string;
  suite: string;
  /** The mirror as the image's sources name it (no credentials); unset: mmdebstrap's default. */
  mirror?: string;
  packages: readonly string[];
  bootable: boolean;
  /** The disk's size in bytes. */
  bytes: number;
  /** A UEFI-bootable root's file system UUID, which its fstab names; unset for others (their keys stay). */
  rootUuid?: string;
}

export function rootStageKey(i: RootStageInputs): string {
  return sha256(canonicalJson({
    stage: "root after packages",
    pipeline: PIPELINE_VERSION,
    sources: PIPELINE_SOURCES,
    arch: i.arch === "amd64" ? undefined : i.arch,
    suite: i.suite,
    mirror: i.mirror,
    // As in the build key: order and duplicates do not change what apt installs.
    packages: [...new Set(i.packages)].sort(),
    bootable: i.bootable,
    bytes: i.bytes,
    rootUuid: i.rootUuid,
  }));
}

/**
 * One suite apt resolved a stage's packages from, and packageIndexDigest()
 * of its InRelease as apt read it then. mmdebstrap adds suites of its own
 * (for a stable release without a mirror: -updates and -security, the
 * latter from another host), so the list comes from the image's sources.
 */
export interface StageIndex {
  uri: string;
  suite: string;
  digest: string;
}

/** The `deb` lines of a one-line-style sources.list, as (uri, suite). */
export function debSources(sourcesList: string): { uri: string; suite: string }[] {
  return oneLineSources(sourcesList).map(({ uri, suite }) => ({ uri, suite }));
}

/**
 * The name apt gives the InRelease file of `suite` at `uri` in
 * /var/lib/apt/lists: the URL without scheme and credentials, a few
 * characters %-quoted, then every / made _ (apt's URItoFileName).
 */
export function inReleaseListName(uri: string, suite: string): string {
  const url = `${uri.replace(/\/+$/, "")}/dists/${suite}/InRelease`.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/^[^/@]*@/, "");
  return aptQuote(url, "\\|{}[]<>\"^~_=!@#$%&*").replace(/\//g, "_");
}

/**
 * The package indices a stage was resolved from: for each `deb` source of
 * the image's sources.list, the digest of the InRelease apt read (looked up
 * by apt's file name with `inRelease`). A reason instead when a source has
 * none, or there is no source: such a stage could not be checked later.
 */
export function stageIndexes(sourcesList: string, inRelease: (listName: string) => string | undefined): { indexes?: StageIndex[]; reason?: string } {
  const sources = debSources(sourcesList);
  if (!sources.length) return { reason: "the image's sources.list names no deb source" };
  const indexes: StageIndex[] = [];
  for (const { uri, suite } of sources) {
    const text = inRelease(inReleaseListName(uri, suite));
    const digest = text === undefined ? undefined : packageIndexDigest(text);
    if (!digest) return { reason: `no InRelease with package indices for ${uri} ${suite}` };
    indexes.push({ uri, suite, digest });
  }
  return { indexes };
}

/**
 * What of a Release (or InRelease) file decides what apt resolves: the
 * hashes of its package indices (the SHA256 lines naming .../Packages*).
 * Its date, which changes at each publication, does not. Undefined when it
 * lists no package index.
 */
export function packageIndexDigest(release: string): string | undefined {
  const lines = [...releaseFiles(release)].filter(([file]) => /\/Packages(\.\w+)?$/.test(file)).map(([file, f]) => `${f.sha256} ${f.size} ${file}`);
  return lines.length ? sha256(lines.sort().join("\n")) : undefined;
}
