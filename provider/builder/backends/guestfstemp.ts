// What a killed libguestfs tool leaves behind, and how a build avoids or
// removes it. Each guestfish or virt-customize makes two directories and
// removes them when it exits, but not when it is killed, as the tools of an
// interrupted or timed-out build are (SIGKILL of their PID namespace):
//  - its temporary directory, libguestfsXXXXXX in LIBGUESTFS_TMPDIR: a build
//    points that into its own work directory, which goes with the build;
//  - its socket directory, which for root is always /tmp/libguestfsXXXXXX
//    (libguestfs ignores every variable there, to keep socket paths short),
//    holding guestfsd.sock. Once no process holds that socket it is garbage:
//    removeOrphanSocketDirs() finds such directories through /proc/net/unix.
import * as fs from "node:fs";
import * as path from "node:path";

/** Where libguestfs puts its socket directories when run as root. */
const SOCKET_DIR_ROOT = "/tmp";

const SOCKET_DIR = /^libguestfs[A-Za-z0-9]{6}$/;

/** The environment of a build's libguestfs tools: `env`, with their temporary files under the build's work directory. */
export function guestfsToolEnv(env: Record<string, string>, workDir: string): Record<string, string> {
  const tmp = path.join(workDir, "libguestfs");
  fs.mkdirSync(tmp, { recursive: true });
  return { ...env, LIBGUESTFS_TMPDIR: tmp };
}

/** Paths of the Unix sockets some process holds on this host (bound, listening or connected), from /proc/net/unix. */
export function heldSocketPaths(): Set<string> {
  const held = new Set<string>();
  let table: string;
  try {
    table = fs.readFileSync("/proc/net/unix", "utf8");
  } catch {
    return held;
  }
  // Num RefCount Protocol Flags Type St Inode Path; abstract names start with "@".
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length >= 8 && fields[7].startsWith("/")) held.add(fields.slice(7).join(" "));
  }
  return held;
}

/**
 * Remove libguestfs socket directories under `root` that killed tools left:
 * owned by this user, holding a guestfsd.sock and nothing but sockets, none of
 * them held by a process. A directory whose tool has not made its socket yet
 * has none and is kept. Returns the directories removed.
 */
export function removeOrphanSocketDirs(root = SOCKET_DIR_ROOT): string[] {
  const uid = process.geteuid?.();
  const candidates: { dir: string; sockets: string[] }[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync(root).filter((e) => SOCKET_DIR.test(e));
  } catch {
    return [];
  }
  for (const entry of entries) {
    const dir = path.join(root, entry);
    try {
      const st = fs.lstatSync(dir);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      const names = fs.readdirSync(dir);
      if (!names.includes("guestfsd.sock")) continue;
      const sockets = names.map((n) => path.join(dir, n));
      if (sockets.every((s) => fs.lstatSync(s).isSocket())) candidates.push({ dir, sockets });
    } catch {
      // Gone meanwhile: its tool removed it.
    }
  }
  if (candidates.length === 0) return [];
  // Read after listing the sockets: a socket listed above and still held is in it.
  const inUse = heldSocketPaths();
  const removed: string[] = [];
  for (const { dir, sockets } of candidates) {
    if (sockets.some((s) => inUse.has(s))) continue;
    try {
      fs.rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Left for the next build (or the system's temp cleaner) to try again.
    }
  }
  return removed;
}
