// The direct backend: the same images as the guestfs backend, without a VM.
//
//   root image:    mmdebstrap into a directory; actions in a chroot;
//                  mke2fs -d into the disk (for a bootable image: an MBR
//                  partition, extlinux through a loop mount, the MBR code);
//                  qemu-img convert for qcow2.
//   derived image: the parent's root file system copied out of its disk
//                  (read-only loop mount); apt-get install and the actions in
//                  a chroot; then the disk as above, with the parent's layout.
//
// Loop mounts run in a private mount namespace, so nothing stays mounted if
// the build is killed.
import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_SIZE, isBootable } from "../buildkey";
import { run } from "../exec";
import { imageFormat } from "../forest";
import { resolveLocal } from "../localfiles";
import type { BuildContext, Step } from "../pipeline";
import { sizeBytes } from "../schema";
import type { Backend, BackendBuild } from "./backend";
import { aptInstall, applyAction } from "./chroot";
import { bootstrapCommand, debCacheDir, kernelIn, partitionOffset, readSector0 } from "./common";
import { EXTLINUX_CONF, FSTAB, SYSLINUX_MBR } from "./guestfs";

const MINUTE = 60_000;
/** The first partition of bootable images starts at 1 MiB, as guestfish's part-add 2048 puts it. */
export const PARTITION_OFFSET = 2048 * 512;

/** A constant bash script, with `args` as "$1"..., in a private mount namespace. */
const ns = (ctx: BuildContext, label: string, script: string, args: string[]) =>
  run("unshare", ["--mount", "--propagation", "private", "--", "/bin/bash", "-c", `set -eo pipefail\n${script}`, "vm-images", ...args], {
    label: `${ctx.image} ${label}`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
  });

/** The parent as a raw disk: itself, or converted from qcow2 into the work directory. */
async function rawParent(b: BackendBuild, ctx: BuildContext): Promise<string> {
  const parent = b.parentPath!;
  if (imageFormat(parent) === "raw") return parent;
  const raw = path.join(b.workDir, "parent.raw");
  await run("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", parent, raw], {
    label: `${ctx.image} qemu-img`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
  });
  return raw;
}

interface Layout {
  bootable: boolean;
  bytes: number;
}

/** mke2fs -d the root directory into the disk, bootable or not. */
async function makeDisk(b: BackendBuild, root: string, disk: string, layout: Layout, ctx: BuildContext): Promise<void> {
  fs.rmSync(disk, { force: true });
  fs.writeFileSync(disk, "");
  fs.truncateSync(disk, layout.bytes);
  const mke2fs = (args: string[]) => run("mke2fs", ["-q", "-F", "-t", "ext4", "-d", root, ...args], {
    label: `${ctx.image} mke2fs`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
  });
  if (!layout.bootable) {
    await mke2fs([disk]);
    return;
  }
  // The same files the guestfs backend writes into a bootable image.
  fs.writeFileSync(path.join(root, "etc", "fstab"), FSTAB);
  fs.mkdirSync(path.join(root, "boot", "extlinux"), { recursive: true });
  fs.writeFileSync(path.join(root, "boot", "extlinux", "extlinux.conf"), EXTLINUX_CONF);
  await run("sfdisk", ["--quiet", disk], {
    label: `${ctx.image} sfdisk`, log: ctx.log, signal: ctx.signal, timeoutMs: MINUTE,
    input: `label: dos\nstart=${PARTITION_OFFSET / 512}, type=83, bootable\n`,
  });
  await mke2fs(["-E", `offset=${PARTITION_OFFSET}`, disk, `${Math.floor((layout.bytes - PARTITION_OFFSET) / 1024)}k`]);
  const mnt = path.join(b.workDir, "mnt");
  fs.mkdirSync(mnt, { recursive: true });
  try {
    await ns(ctx, "extlinux", `mount -o loop,offset="$2" "$1" "$3"\nextlinux --install "$3/boot/extlinux"\numount "$3"`, [
      disk, String(PARTITION_OFFSET), mnt,
    ]);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    ctx.log.line(ctx.image, `no loop mount here (${(err as Error).message.split("\n")[0]}); falling back to libguestfs for extlinux`);
    await run("guestfish", ["--format=raw", "-a", disk, "-m", "/dev/sda1", "--", "extlinux", "/boot/extlinux"], {
      label: `${ctx.image} guestfish`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE, env: b.guestfsEnv,
    });
  }
  // The 440 bytes of MBR boot code; the partition table after them stays.
  const mbr = fs.readFileSync(SYSLINUX_MBR).subarray(0, 440);
  const fd = fs.openSync(disk, "r+");
  try {
    fs.writeSync(fd, mbr, 0, mbr.length, 0);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The kernel's postinst and a dpkg trigger each build the initramfs (about
 * 30 s apiece here): divert update-initramfs while packages install, and
 * build the initramfs once afterwards.
 */
const ONE_INITRAMFS_HOOKS = [
  `--essential-hook=chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs && ln -s /bin/true "$1/usr/sbin/update-initramfs"`,
  `--customize-hook=rm "$1/usr/sbin/update-initramfs" && chroot "$1" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs && chroot "$1" update-initramfs -c -k all`,
];

/**
 * No fsync per file while dpkg unpacks: the directory is packed into a new
 * disk afterwards, so a crash midway loses nothing. Only while building:
 * mmdebstrap's --dpkgopt would leave it in the image.
 */
const UNSAFE_IO_CONF = "/etc/dpkg/dpkg.cfg.d/00vm-images-unsafe-io";
const UNSAFE_IO_HOOKS = [
  `--setup-hook=mkdir -p "$1/etc/dpkg/dpkg.cfg.d" && echo force-unsafe-io > "$1${UNSAFE_IO_CONF}"`,
  `--customize-hook=rm -f "$1${UNSAFE_IO_CONF}"`,
];

function steps(b: BackendBuild): Step[] {
  const root = path.join(b.workDir, "rootfs");
  const disk = b.format === "raw" ? b.target : path.join(b.workDir, "disk.raw");
  let layout: Layout = { bootable: isBootable(b.image), bytes: sizeBytes(b.image.size ?? DEFAULT_SIZE) };
  const list: Step[] = [];

  if (b.parentPath) {
    list.push({
      name: "copy parent root file system (loop mount)",
      do: async (ctx) => {
        const raw = await rawParent(b, ctx);
        const offset = partitionOffset(readSector0(raw));
        layout = { bootable: offset > 0, bytes: b.image.size ? sizeBytes(b.image.size) : fs.statSync(raw).size };
        const mnt = path.join(b.workDir, "parent");
        fs.mkdirSync(mnt, { recursive: true });
        fs.mkdirSync(root, { recursive: true });
        try {
          // A tar pipe reads and writes at once: about 4 s here where cp -a took 13-22 s.
          await ns(ctx, "copy", `mount -o ro,loop,offset="$2" "$1" "$3"
tar_opts=(--numeric-owner --xattrs --xattrs-include='*' --acls)
(cd "$3" && tar "\${tar_opts[@]}" --sparse -cf - .) | (cd "$4" && tar "\${tar_opts[@]}" -xpf -)
umount "$3"`, [raw, String(offset), mnt, root]);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          ctx.log.line(ctx.image, `no loop mount here (${(err as Error).message.split("\n")[0]}); falling back to libguestfs to copy the parent`);
          const tarball = path.join(b.workDir, "parent.tar");
          await run("guestfish", ["--ro", "--format=raw", "-a", raw, "-m", offset ? "/dev/sda1" : "/dev/sda", "--",
            "tar-out", "/", tarball, "numericowner:true", "xattrs:true"], {
            label: `${ctx.image} guestfish`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE, env: b.guestfsEnv,
          });
          await run("tar", ["--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", tarball, "-C", root], {
            label: `${ctx.image} tar`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
          });
          fs.rmSync(tarball, { force: true });
        }
        fs.rmSync(path.join(root, "lost+found"), { recursive: true, force: true });
        if (raw !== b.parentPath) fs.rmSync(raw, { force: true });
      },
    });
    list.push({
      name: "install packages (apt-get in chroot)",
      do: (ctx) => aptInstall(root, b.image.packages, debCacheDir(b.cacheDir), ctx),
    });
  } else {
    list.push({
      name: "bootstrap root file system (mmdebstrap)",
      do: async (ctx) => {
        const extra = [...UNSAFE_IO_HOOKS, ...(layout.bootable ? ONE_INITRAMFS_HOOKS : [])];
        const { cmd, args, env } = bootstrapCommand(b, root, layout.bootable, extra);
        await run(cmd, args, { label: `${ctx.image} mmdebstrap`, log: ctx.log, signal: ctx.signal, timeoutMs: 60 * MINUTE, env });
      },
    });
  }
  if (b.image.actions.length) {
    list.push({
      name: "run actions (chroot)",
      do: async (ctx) => {
        for (const action of b.image.actions) {
          await applyAction(root, action, ctx, (p) => resolveLocal(b.baseDir, p), kernelIn);
        }
      },
    });
  }
  list.push({
    name: "make disk (mke2fs -d)",
    do: (ctx) => makeDisk(b, root, disk, layout, ctx),
    cleanup: async () => fs.rmSync(root, { recursive: true, force: true }),
  });
  if (b.format === "qcow2") {
    list.push({
      name: "convert to qcow2 (qemu-img)",
      do: async (ctx) => {
        await run("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", disk, b.target], {
          label: `${ctx.image} qemu-img`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
        });
      },
      cleanup: async () => fs.rmSync(disk, { force: true }),
    });
  }
  return list;
}

export const directBackend: Backend = { name: "direct", steps };
