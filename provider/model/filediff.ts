// Two images' file systems compared file by file, pure: each file's facts
// (type, mode, owner, size, content digest, link target, time) as listed
// from the images, the paths that differ (those that hold other bytes
// first), and what differs in each, for a verification that did not
// reproduce an image.

export interface FileFacts {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** sha256 of a regular file's content. */
  sha256?: string;
  /** The target of a link. */
  link?: string;
  /** Modification time, seconds. */
  mtime: number;
}

/** One image's files, by path (as the listing names them, without a leading `./`). */
export type FileListing = Map<string, FileFacts>;

export interface FileDifference {
  path: string;
  /** What differs, such as "content", "mode 0644 -> 0600", "only in the published image". */
  what: string[];
}

/** The path of a listed entry: `./etc/x`, `etc/x` and `/etc/x` are the same file; the root is `/`. */
export function listedPath(name: string): string {
  const p = name.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
  return p === "" || p === "." ? "/" : `/${p}`;
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, "0");

/** What differs between one file's facts in the published image (`a`) and in the rebuild (`b`). */
export function factDifferences(a: FileFacts, b: FileFacts): string[] {
  const what: string[] = [];
  if (a.type !== b.type) return [`type ${a.type} -> ${b.type}`];
  if (a.sha256 !== b.sha256) what.push(`content (size ${a.size} -> ${b.size}, sha256 ${short(a.sha256)} -> ${short(b.sha256)})`);
  else if (a.size !== b.size) what.push(`size ${a.size} -> ${b.size}`);
  if (a.link !== b.link) what.push(`link ${JSON.stringify(a.link)} -> ${JSON.stringify(b.link)}`);
  if ((a.mode & 0o7777) !== (b.mode & 0o7777)) what.push(`mode ${octal(a.mode)} -> ${octal(b.mode)}`);
  if (a.uid !== b.uid || a.gid !== b.gid) what.push(`owner ${a.uid}:${a.gid} -> ${b.uid}:${b.gid}`);
  if (a.mtime !== b.mtime) what.push(`mtime ${a.mtime} -> ${b.mtime}`);
  return what;
}

const short = (digest: string | undefined) => (digest ? digest.slice(0, 12) : "-");

/**
 * How much a difference says, for the order they are shown in: 0 what a
 * file holds (content, type, link, a file in one image only), 1 its
 * metadata (mode, owner), 2 its time alone. A build that stamps the time
 * changes every file's time; the file that holds other bytes comes first.
 */
export function rank(d: FileDifference): 0 | 1 | 2 {
  if (d.what.some((w) => /^(content|type|link|only in)/.test(w))) return 0;
  return d.what.every((w) => w.startsWith("mtime")) ? 2 : 1;
}

/**
 * The files that differ between the published image's listing and the
 * rebuild's, with what differs in each (a file in only one of them says so):
 * by rank, then in path order. All of them: the caller shows the first few.
 */
export function diffListings(published: FileListing, rebuilt: FileListing): FileDifference[] {
  const paths = [...new Set([...published.keys(), ...rebuilt.keys()])].sort();
  const out: FileDifference[] = [];
  for (const p of paths) {
    const a = published.get(p);
    const b = rebuilt.get(p);
    if (!b) out.push({ path: p, what: [`only in the published image (${a!.type})`] });
    else if (!a) out.push({ path: p, what: [`only in the rebuilt image (${b.type})`] });
    else {
      const what = factDifferences(a, b);
      if (what.length) out.push({ path: p, what });
    }
  }
  // Paths are sorted already: a stable sort by rank keeps them so within one.
  return out.sort((x, y) => rank(x) - rank(y));
}

/** How many differences there are of each rank, as a sentence's end. */
export function summarize(diffs: readonly FileDifference[]): string {
  const n = [0, 0, 0];
  for (const d of diffs) n[rank(d)]++;
  return `${n[0]} in what they hold, ${n[1]} in mode or owner, ${n[2]} in time only`;
}

/** The first `limit` differences as lines, and how many more there are. */
export function formatDifferences(diffs: readonly FileDifference[], limit: number): string[] {
  const lines = diffs.slice(0, limit).map((d) => `  ${d.path}: ${d.what.join("; ")}`);
  if (diffs.length > limit) lines.push(`  ... and ${diffs.length - limit} more`);
  return lines;
}
