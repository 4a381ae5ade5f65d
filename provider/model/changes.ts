// A derived image's changes, applied to its parent's file system in place
// (the direct backend, direct/changes.ts): the build's runs write to an
// overlay's upper directory above the parent's file system, read-only; that
// directory is every change (a whiteout, a character device 0:0, is a
// removal; an opaque directory hides what was below it). Here, pure: the
// listings parsed, and the debugfs commands that make the parent's file
// system the child's. Whatever is not changed keeps its blocks, so a qcow2
// overlay on the parent holds only what changed; and debugfs allocates in a
// fixed order, with times at the source date, so the same changes give the
// same bytes.

/** find's %y letters: f d l c b p s; and `w`, a whiteout. */
export type EntryType = "f" | "d" | "l" | "c" | "b" | "p" | "s" | "w";

export interface UpperEntry {
  /** Relative to the file system's root, without a leading slash; "" is the root. */
  path: string;
  type: EntryType;
  /** Permission bits (with set-id and sticky bits), not the type. */
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  ino: number;
  nlink: number;
  target?: string;
  rdev?: { major: number; minor: number };
  opaque: boolean;
  /** Extended attributes to set: name and the file that holds the value. */
  xattrs: { name: string; file: string }[];
}

/** `find -printf '%y %p\0'` of the parent's file system: path (as above) -> type. */
export function parseLowerListing(text: string): Map<string, EntryType> {
  const map = new Map<string, EntryType>();
  for (const rec of text.split("\0")) {
    if (!rec) continue;
    const type = rec[0] as EntryType;
    map.set(relative(rec.slice(2)), type);
  }
  return map;
}

const relative = (p: string) => (p === "." ? "" : p.replace(/^\.\//, ""));

/**
 * `find -printf '%y %m %U %G %T@ %i %n\0%p\0%l\0'` of the upper directory,
 * with the devices' numbers (`stat --printf '%t %T %n\0'`, hex) and the
 * extended attributes (name -> value file) of each path.
 */
export function parseUpperListing(
  text: string, devices: string, xattrs: ReadonlyMap<string, { name: string; file: string }[]>,
): UpperEntry[] {
  const rdevs = new Map<string, { major: number; minor: number }>();
  for (const rec of devices.split("\0")) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/s.exec(rec);
    if (m) rdevs.set(relative(m[3]), { major: parseInt(m[1], 16), minor: parseInt(m[2], 16) });
  }
  const fields = text.split("\0");
  const entries: UpperEntry[] = [];
  for (let i = 0; i + 2 < fields.length; i += 3) {
    const [type, mode, uid, gid, mtime, ino, nlink] = fields[i].split(" ");
    const p = relative(fields[i + 1]);
    const rdev = rdevs.get(p);
    const all = xattrs.get(p) ?? [];
    const whiteout = type === "c" && rdev?.major === 0 && rdev?.minor === 0;
    entries.push({
      path: p, type: whiteout ? "w" : (type as EntryType), mode: parseInt(mode, 8), uid: Number(uid), gid: Number(gid),
      mtime: Math.floor(Number(mtime)), ino: Number(ino), nlink: Number(nlink),
      target: type === "l" ? fields[i + 2] : undefined, rdev: type === "c" || type === "b" ? rdev : undefined,
      opaque: type === "d" && all.some((x) => x.name === "trusted.overlay.opaque"),
      xattrs: all.filter((x) => !x.name.startsWith("trusted.overlay.")),
    });
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A path as debugfs reads an argument: in double quotes, a quote doubled. */
export function quoted(p: string): string {
  if (/[\n\r]/.test(p)) throw new Error(`${JSON.stringify(p)}: a name with a line break cannot be written into the image`);
  return `"${p.replace(/"/g, '""')}"`;
}

const abs = (p: string) => `/${p}`;
const parentOf = (p: string) => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "");
const baseOf = (p: string) => p.slice(p.lastIndexOf("/") + 1);
const S_IF: Record<string, number> = { f: 0o100000, d: 0o040000, l: 0o120000, c: 0o020000, b: 0o060000, p: 0o010000 };

export interface ApplyPlan {
  /** debugfs's commands, one a line. */
  script: string;
  /** Entries that cannot be made (sockets): left out, for the log. */
  skipped: string[];
}

/**
 * The debugfs commands that turn the parent's file system (`lower`) into
 * the child's, given the upper directory's entries (`upperRoot` the host
 * path debugfs reads new files from) and the source date: what the upper
 * directory removes or replaces first (children before their directory),
 * then what it makes, parents first, each with its mode, owner, times
 * (access at the source date, modification clamped to it) and attributes.
 */
export function applyScript(upper: readonly UpperEntry[], lower: ReadonlyMap<string, EntryType>, upperRoot: string, epoch: number): ApplyPlan {
  const removals = new Map<string, boolean>(); // path -> is a directory
  const removeBelow = (dir: string) => {
    const prefix = dir === "" ? "" : `${dir}/`;
    for (const [p, t] of lower) if (p !== dir && p.startsWith(prefix)) removals.set(p, t === "d");
  };
  const removeAt = (p: string) => {
    const t = lower.get(p);
    if (t === undefined) return;
    if (t === "d") removeBelow(p);
    removals.set(p, t === "d");
  };
  for (const e of upper) {
    const below = lower.get(e.path);
    if (e.type === "w") removeAt(e.path);
    else if (e.type === "d") {
      if (below !== undefined && below !== "d") removeAt(e.path);
      else if (below === "d" && e.opaque) removeBelow(e.path);
    } else if (below !== undefined) removeAt(e.path);
  }
  const lines: string[] = [];
  // Deepest first: a directory is empty by the time it is removed.
  for (const p of [...removals.keys()].sort().reverse()) lines.push(`${removals.get(p) ? "rmdir" : "rm"} ${quoted(abs(p))}`);

  const primary = new Map<number, UpperEntry>();
  const linkCount = new Map<string, number>();
  const skipped: string[] = [];
  let cwd: string | undefined;
  for (const e of upper) {
    if (e.type === "w") continue;
    if (e.type === "s") {
      skipped.push(abs(e.path));
      continue;
    }
    const kept = e.path === "" || (e.type === "d" && lower.get(e.path) === "d" && !removals.has(e.path));
    const first = e.type !== "d" && e.nlink > 1 ? primary.get(e.ino) : undefined;
    if (!kept) {
      if (first) {
        lines.push(`ln ${quoted(abs(first.path))} ${quoted(abs(e.path))}`);
        linkCount.set(first.path, (linkCount.get(first.path) ?? 1) + 1);
        continue;
      }
      const dir = parentOf(e.path);
      if (cwd !== dir) lines.push(`cd ${quoted(abs(dir))}`);
      cwd = dir;
      const name = quoted(baseOf(e.path));
      if (e.type === "d") lines.push(`mkdir ${name}`);
      else if (e.type === "f") lines.push(`write ${quoted(`${upperRoot}/${e.path}`)} ${name}`);
      else if (e.type === "l") lines.push(`symlink ${name} ${quoted(e.target ?? "")}`);
      else if (e.type === "p") lines.push(`mknod ${name} p`);
      else lines.push(`mknod ${name} ${e.type} ${e.rdev?.major ?? 0} ${e.rdev?.minor ?? 0}`);
      if (e.type !== "d" && e.nlink > 1) primary.set(e.ino, e);
    }
    const at = quoted(abs(e.path));
    lines.push(
      `sif ${at} mode 0${(S_IF[e.type] | e.mode).toString(8)}`, `sif ${at} uid ${e.uid}`, `sif ${at} gid ${e.gid}`,
      `sif ${at} atime @${epoch}`, `sif ${at} atime_extra 0`, `sif ${at} mtime @${Math.min(e.mtime, epoch)}`, `sif ${at} mtime_extra 0`,
    );
    for (const x of e.xattrs) lines.push(`ea_set -f ${quoted(x.file)} ${at} ${quoted(x.name)}`);
  }
  for (const [p, n] of [...linkCount].sort()) lines.push(`sif ${quoted(abs(p))} links_count ${n}`);
  return { script: lines.length ? `${lines.join("\n")}\n` : "", skipped };
}

/**
 * The lines of debugfs's output that report a failure: everything but its
 * banner, the commands it echoes and the inodes it allocates.
 */
export function debugfsErrors(output: string): string[] {
  return output.split("\n").filter((l) => l.trim() !== "" && !/^debugfs( \d|:)/.test(l) && !/^Allocated inode: \d+$/.test(l));
}

/** getfattr's escapes in a file name (`\ooo`, octal) undone. */
function unescapeName(s: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(s, "utf8");
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x5c && i + 3 < raw.length && /^[0-7]{3}$/.test(raw.subarray(i + 1, i + 4).toString("latin1"))) {
      bytes.push(parseInt(raw.subarray(i + 1, i + 4).toString("latin1"), 8));
      i += 3;
    } else bytes.push(raw[i]);
  }
  return Buffer.from(bytes).toString("utf8");
}

/**
 * `getfattr -R -d -m - -e hex --absolute-names ROOT`: each path (relative to
 * ROOT, as above) and its attributes' names and values.
 */
export function parseGetfattr(text: string, root: string): Map<string, { name: string; value: Buffer }[]> {
  const map = new Map<string, { name: string; value: Buffer }[]>();
  let current: { name: string; value: Buffer }[] | undefined;
  for (const line of text.split("\n")) {
    const file = /^# file: (.*)$/.exec(line);
    if (file) {
      const p = unescapeName(file[1]);
      const rel = p === root ? "" : p.startsWith(`${root}/`) ? p.slice(root.length + 1) : undefined;
      current = rel === undefined ? undefined : [];
      if (rel !== undefined) map.set(rel, current!);
      continue;
    }
    const attr = /^([^=]+)=0x([0-9a-f]*)$/.exec(line);
    if (attr && current) current.push({ name: attr[1], value: Buffer.from(attr[2], "hex") });
  }
  return map;
}
