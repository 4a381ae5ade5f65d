// What both backends share: the mmdebstrap command line with its package
// cache, and finding the kernel of a kernel install directory.
import * as fs from "node:fs";
import * as path from "node:path";
import type { BackendBuild } from "./backend";

/** The kernel package that bootable images get, as in lvh. */
export const KERNEL_PACKAGE = "linux-image-amd64";

/** Downloaded .deb files, shared by all builds: a rebuild downloads only what is new. */
export function debCacheDir(cacheDir: string): string {
  return path.join(cacheDir, "debs");
}

/**
 * mmdebstrap into `target` (a tarball or a directory, by its name), with the
 * image's packages, through the shared .deb cache. `extraHooks` are further
 * mmdebstrap options (customize hooks of the direct backend).
 */
export function bootstrapCommand(
  b: BackendBuild,
  target: string,
  bootable: boolean,
  extraHooks: string[] = [],
): { cmd: string; args: string[]; env: Record<string, string> } {
  const packages = [...(bootable ? [KERNEL_PACKAGE] : []), ...b.image.packages];
  const cache = debCacheDir(b.cacheDir);
  fs.mkdirSync(path.join(cache, "partial"), { recursive: true });
  const root = process.getuid?.() === 0;
  const archives = `"$1/var/cache/apt/archives"`;
  const quotedCache = `'${cache.replace(/'/g, "'\\''")}'`;
  // Keep the downloaded packages. As root, the cache itself is mounted over
  // the archive directory (in mmdebstrap's private mount namespace) and
  // unmounted before the image is finished; otherwise it is copied in
  // before and the new packages out after.
  const cacheHooks = root
    ? { setup: [`--setup-hook=mkdir -p ${archives} && mount --bind ${quotedCache} ${archives}`], customize: [`--customize-hook=umount ${archives}`] }
    : { setup: [`--setup-hook=mkdir -p ${archives}`, `--setup-hook=sync-in ${cache} /var/cache/apt/archives/`],
        customize: [`--customize-hook=sync-out /var/cache/apt/archives ${cache}`] };
  const args = [
    "--verbose",
    ...(packages.length ? [`--include=${packages.join(",")}`] : []),
    // In a chroot, initramfs-tools cannot see the root device, so it would
    // leave fsck out of the initramfs; tell it the root file system type.
    ...(bootable ? [`--setup-hook=mkdir -p "$1/etc/initramfs-tools/conf.d" && echo FSTYPE=ext4 > "$1/etc/initramfs-tools/conf.d/fstype"`] : []),
    "--skip=essential/unlink",
    ...cacheHooks.setup,
    ...extraHooks,
    ...cacheHooks.customize,
    `--customize-hook=rm -f ${archives}/*.deb`,
    b.suite,
    target,
    ...(b.mirror ? [b.mirror] : []),
  ];
  // As root, mmdebstrap mounts /proc, /sys and /dev into its scratch root. In
  // a private mount namespace those mounts end with it, however it ends, so
  // removing the work directory afterwards can never reach the host's.
  if (root) {
    return { cmd: "unshare", args: ["--mount", "--propagation", "private", "--", "mmdebstrap", ...args], env: { TMPDIR: b.workDir } };
  }
  return { cmd: "mmdebstrap", args, env: { TMPDIR: b.workDir } };
}

/** lvh's rule: a kernel install directory holds exactly one boot/vmlinuz-* file. */
export function kernelIn(installDir: string): string {
  const boot = path.join(installDir, "boot");
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(boot, { withFileTypes: true });
  } catch {
    throw new Error(`install-kernel: ${boot} does not exist; expected a kernel install directory with boot/vmlinuz-*`);
  }
  const kernels = entries.filter((e) => e.isFile() && e.name.startsWith("vmlinuz-")).map((e) => e.name);
  if (kernels.length !== 1) {
    throw new Error(`install-kernel: expected exactly one boot/vmlinuz-* in ${installDir}, found ${kernels.length ? kernels.join(", ") : "none"}`);
  }
  return kernels[0];
}

/** The first 512 bytes of a raw disk image. */
export function readSector0(file: string): Buffer {
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(512);
    fs.readSync(fd, buf, 0, 512, 0);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Where the first partition of an MBR disk starts, in bytes, or 0 for a file
 * system on the whole disk (a non-bootable image): no boot signature, or an
 * empty first partition entry.
 */
export function partitionOffset(sector0: Buffer): number {
  if (sector0[510] !== 0x55 || sector0[511] !== 0xaa || sector0[446 + 4] === 0) return 0;
  return sector0.readUInt32LE(446 + 8) * 512;
}
