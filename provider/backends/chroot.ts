// Running commands inside a root file system, VM-less: a directory, or the
// file system of a raw disk image, loop-mounted read-write for each command.
//
// Each command runs in private mount and PID namespaces (unshare --mount
// --pid --fork), where the disk, /proc, /sys, /dev and the host's
// resolv.conf are mounted into the root. When the command ends, whatever it
// left running is killed and the disk is unmounted; if the build is killed,
// the kernel ends the namespaces, their processes and every mount with it.
// The host shell runs only the constant script below; the command and its
// arguments reach it as "$@", never as shell code.
//
// File actions go through the guest's own tools inside the chroot, so an
// absolute symlink in the image resolves inside the image, never on the host.
import * as fs from "node:fs";
import * as path from "node:path";
import { run } from "../exec";
import type { BuildContext } from "../pipeline";
import type { Action } from "../schema";

/** Where a chroot's files are: a directory, or a raw disk whose file system (at `offset` bytes) is mounted on `dir`. */
export interface RootFs {
  dir: string;
  disk?: { file: string; offset: number };
}

const ENTER = `set -e
root="$1"; shift
if [ -n "$VM_IMAGES_DISK" ]; then mount -o "loop,offset=$VM_IMAGES_DISK_OFFSET" "$VM_IMAGES_DISK" "$root"; fi
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
if [ -n "$VM_IMAGES_DEB_CACHE" ]; then
  mkdir -p "$VM_IMAGES_DEB_CACHE/partial" "$root/var/cache/apt/archives"
  mount --bind "$VM_IMAGES_DEB_CACHE" "$root/var/cache/apt/archives"
fi
if [ -f /etc/resolv.conf ]; then
  if [ ! -e "$root/etc/resolv.conf" ] && [ ! -L "$root/etc/resolv.conf" ]; then : > "$root/etc/resolv.conf"; made_resolv=1; fi
  [ -L "$root/etc/resolv.conf" ] || mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
fi
set +e
chroot "$root" "$@"
status=$?
# We are PID 1 of this namespace: nothing the command started outlives it.
kill -s KILL -- -1 2>/dev/null
if [ -n "$made_resolv" ]; then umount "$root/etc/resolv.conf"; rm -f "$root/etc/resolv.conf"; fi
if [ -n "$VM_IMAGES_DISK" ]; then
  # Unmounted here, cleanly, before the next command mounts the disk again.
  for try in 1 2 3 4 5 6 7 8 9 10; do umount -R "$root" 2>/dev/null && exit $status; sleep 0.2; done
  umount -R "$root" || { echo "vm-images: could not unmount the image from $root" >&2; exit 1; }
fi
exit $status`;

const MINUTE = 60_000;

export interface ChrootOptions {
  label: string;
  timeoutMs?: number;
  /** A host file streamed to the command's stdin. */
  inputFile?: string;
  env?: Record<string, string>;
}

const NAMESPACES = ["--mount", "--propagation", "private", "--pid", "--fork", "--kill-child"];

/** Run argv inside `root` with /proc, /sys, /dev and DNS available. */
export async function inChroot(root: RootFs, argv: string[], ctx: BuildContext, opts: ChrootOptions): Promise<string> {
  const disk = root.disk ? { VM_IMAGES_DISK: root.disk.file, VM_IMAGES_DISK_OFFSET: String(root.disk.offset) } : {};
  return run("unshare", [...NAMESPACES, "--", "/bin/sh", "-c", ENTER, "vm-images-chroot", root.dir, ...argv], {
    label: `${ctx.image} ${opts.label}`,
    log: ctx.log,
    signal: ctx.signal,
    timeoutMs: opts.timeoutMs ?? 60 * MINUTE,
    inputFile: opts.inputFile,
    // The kernel ends the namespace, and everything in it, with unshare.
    killSignal: "SIGKILL",
    env: {
      LC_ALL: "C.UTF-8", DEBIAN_FRONTEND: "noninteractive", PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      ...disk, ...opts.env,
    },
  });
}

/** A shell command for the guest's /bin/sh, with arguments quoted for it. */
function guestSh(script: string, ...args: string[]): string[] {
  return ["/bin/sh", "-c", script, "sh", ...args];
}

/**
 * Install packages with the guest's apt as virt-customize --install does
 * (recommends included, new conffiles), starting no services. The shared
 * .deb cache is mounted over the image's archive directory, so downloads
 * outlive the build and never land in the image.
 */
export async function aptInstall(root: RootFs, packages: readonly string[], debCache: string, ctx: BuildContext): Promise<void> {
  if (packages.length === 0) return;
  // policy-rc.d keeps daemons (docker, sshd) from starting inside the chroot.
  await inChroot(root, guestSh(
    `printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
apt-get -q -y update && apt-get -q -y -o Dpkg::Options::=--force-confnew -o Dpkg::Options::=--force-unsafe-io install "$@"; status=$?
rm -f /usr/sbin/policy-rc.d; exit $status`,
    ...packages,
  ), ctx, { label: "apt-get", env: { VM_IMAGES_DEB_CACHE: debCache } });
}

/** Apply one action inside the root directory, with the meaning virt-customize gives it. */
export async function applyAction(
  root: RootFs,
  action: Action,
  ctx: BuildContext,
  resolve: (local: string) => string,
  kernelIn: (dir: string) => string,
): Promise<void> {
  const label = action.type;
  switch (action.type) {
    case "run-command":
      await inChroot(root, ["/bin/sh", "-c", action.cmd], ctx, { label });
      return;
    case "copy-in": {
      // Like virt-customize --copy-in: the file or directory lands inside remoteDir, which must exist.
      const local = resolve(action.localPath);
      await tarInto(root, path.dirname(local), path.basename(local), action.remoteDir, ctx, label);
      return;
    }
    case "set-hostname":
      // As virt-customize does on Debian: /etc/hostname, and the old name in /etc/hosts.
      await inChroot(root, guestSh(
        `old=$(cat /etc/hostname 2>/dev/null || true); printf '%s\\n' "$1" > /etc/hostname
if [ -n "$old" ] && [ -f /etc/hosts ]; then sed -i "s/\\b$old\\b/$1/g" /etc/hosts; fi`,
        action.hostname,
      ), ctx, { label });
      return;
    case "mkdir":
      await inChroot(root, ["mkdir", "-p", action.dir], ctx, { label });
      return;
    case "upload":
      await inChroot(root, guestSh(`cat > "$1"`, action.dest), ctx, { label, inputFile: resolve(action.file) });
      return;
    case "chmod":
      await inChroot(root, ["chmod", action.permissions, action.file], ctx, { label });
      return;
    case "append-line":
      // virt-customize adds a newline first when the file does not end with one.
      await inChroot(root, guestSh(
        `f="$1"; if [ -s "$f" ] && [ "$(tail -c1 "$f" | od -An -c | tr -d ' ')" != '\\n' ]; then printf '\\n' >> "$f"; fi; printf '%s\\n' "$2" >> "$f"`,
        action.file, action.line,
      ), ctx, { label });
      return;
    case "link":
      await inChroot(root, ["ln", "-sf", action.target, action.link], ctx, { label });
      return;
    case "install-kernel": {
      const dir = resolve(action.kernelInstallDir);
      const kernel = kernelIn(dir);
      await tarInto(root, dir, "boot", "/", ctx, label);
      await tarInto(root, path.join(dir, "lib"), "modules", "/lib", ctx, label);
      await inChroot(root, ["ln", "-sf", `/boot/${kernel}`, "/vmlinuz"], ctx, { label });
      return;
    }
    case "tar-in":
      await inChroot(root, guestSh(`mkdir -p "$1" && tar -xpf - -C "$1"`, action.remoteDir), ctx, {
        label, inputFile: resolve(action.tarFile),
      });
      return;
  }
}

/** Copy host `parent/name` into the guest directory `dest` (which must exist), as root-owned files. */
async function tarInto(root: RootFs, parent: string, name: string, dest: string, ctx: BuildContext, label: string) {
  // Staged as a tar file in the build's work directory, next to the root.
  const archive = path.join(path.dirname(root.dir), `copy-${process.hrtime.bigint()}.tar`);
  await run("tar", ["--owner=0", "--group=0", "--numeric-owner", "-cf", archive, "-C", parent, "--", name], {
    label: `${ctx.image} ${label}`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
  });
  try {
    await inChroot(root, guestSh(`test -d "$1" || { echo "copy-in: $1 is not a directory in the image" >&2; exit 1; }; tar -xpf - -C "$1"`, dest), ctx, {
      label, inputFile: archive,
    });
  } finally {
    fs.rmSync(archive, { force: true });
  }
}
