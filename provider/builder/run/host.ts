// Probing the build host once per process: whether we are root and which
// tools are installed, and which Debian package installs each one. The
// model decides with these facts (model/host.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import { DIRECT_TOOLS, type HostFacts } from "../../model/host";
import { ARCHES, binfmtEntry, debianArchOfNode } from "../../model/arch";

/**
 * Where Debian installs tools, searched after PATH: a root cron job or a
 * service may run with a short PATH, and must resolve `auto` and find its
 * tools as an interactive shell does.
 */
export const SYSTEM_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** PATH with the standard system directories it lacks appended. */
export function searchPath(current = process.env.PATH ?? ""): string {
  const dirs = current.split(path.delimiter).filter((d) => d !== "");
  return [...dirs, ...SYSTEM_DIRS.filter((d) => !dirs.includes(d))].join(path.delimiter);
}

/** Where `tool` is, as an executable on PATH or in the standard system directories; undefined when it is nowhere. */
export function whichTool(tool: string): string | undefined {
  for (const dir of searchPath().split(path.delimiter)) {
    try {
      fs.accessSync(path.join(dir, tool), fs.constants.X_OK);
      return path.join(dir, tool);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether `tool` is an executable on PATH or in the standard system directories. */
export function onPath(tool: string): boolean {
  return whichTool(tool) !== undefined;
}

/** The Debian package that provides each tool we run, for "not found" errors. */
export const TOOL_PACKAGES: Record<string, string> = {
  mmdebstrap: "mmdebstrap",
  "qemu-img": "qemu-utils",
  "qemu-system-x86_64": "qemu-system-x86",
  guestfish: "libguestfs-tools",
  "virt-customize": "libguestfs-tools",
  "virt-cat": "libguestfs-tools",
  mke2fs: "e2fsprogs",
  resize2fs: "e2fsprogs",
  e2fsck: "e2fsprogs",
  debugfs: "e2fsprogs",
  zstd: "zstd",
  tar: "tar",
  sfdisk: "fdisk",
  losetup: "mount",
  mount: "mount",
  umount: "mount",
  chroot: "coreutils",
  unshare: "util-linux",
  extlinux: "extlinux",
  bwrap: "bubblewrap",
  slirp4netns: "slirp4netns",
  nft: "nftables",
  keyctl: "keyutils",
  setpriv: "util-linux",
  prlimit: "util-linux",
};

/** Where binfmt_misc's entries are, when it is mounted. */
export const BINFMT_DIR = "/proc/sys/fs/binfmt_misc";

/**
 * Whether binfmt_misc runs `arch`'s binaries here through an interpreter
 * registered with the F flag: its entry enabled, with "flags: ...F...".
 */
export function binfmtRuns(arch: string, dir = BINFMT_DIR): boolean {
  let entry: string;
  try {
    entry = fs.readFileSync(path.join(dir, binfmtEntry(arch)), "utf8");
  } catch {
    return false;
  }
  const flags = /^flags:\s*(\S*)$/m.exec(entry)?.[1] ?? "";
  return /^enabled$/m.test(entry) && flags.includes("F");
}

let probed: HostFacts | undefined;

/** This host's facts, probed on first use. */
export function hostFacts(): HostFacts {
  if (probed) return probed;
  const native = debianArchOfNode(process.arch) ?? process.arch;
  probed = {
    root: process.getuid?.() === 0,
    tools: new Set(DIRECT_TOOLS.filter(onPath)),
    native,
    foreign: new Set(ARCHES.filter((a) => a !== native && binfmtRuns(a))),
  };
  return probed;
}
