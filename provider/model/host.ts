// What the build host offers, as facts probed once by the build layer and
// passed in, so that deciding a backend is a pure function of them.

/** Tools the direct backend runs, besides those both backends need. */
export const DIRECT_TOOLS = ["mmdebstrap", "mke2fs", "unshare", "sfdisk", "extlinux", "chroot", "mount", "bwrap", "slirp4netns", "nft", "keyctl"] as const;

export interface HostFacts {
  /** Whether builds run as root (loop mounts and the chroot's mounts need it). */
  root: boolean;
  /** The tools found on this host, by name. */
  tools: ReadonlySet<string>;
  /** The host's own Debian architecture (unset: amd64). */
  native?: string;
  /**
   * The foreign architectures whose binaries this host runs through
   * binfmt_misc with the F flag (the interpreter opened when registered, so
   * it works inside the sandbox too). Unset: none.
   */
  foreign?: ReadonlySet<string>;
}

/**
 * Why this host cannot build images of `arch` with `backend`, or undefined:
 * libguestfs's appliance runs only the host's architecture, and a foreign
 * one runs only through a binfmt_misc interpreter registered with the F flag.
 */
export function archRefusal(arch: string, backend: "guestfs" | "direct", host: HostFacts, entry: string): string | undefined {
  const native = host.native ?? "amd64";
  if (arch === native) return undefined;
  if (backend === "guestfs") {
    return `${JSON.stringify(arch)} is not this host's architecture (${native}), and the guestfs backend builds only that one ` +
      "(libguestfs's appliance runs the host's kernel): set vm-images:backend to direct, which builds foreign images through qemu-user";
  }
  if (host.foreign?.has(arch)) return undefined;
  return `this host does not run ${arch} binaries: binfmt_misc has no ${entry} interpreter registered with the F flag ` +
    `(install qemu-user-static and binfmt-support and run \`update-binfmts --enable ${entry}\`, after ` +
    "`mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc` where it is not mounted; `npm run setup` does both as root)";
}

/**
 * `auto` is `direct` where this host can build without a VM: as root with
 * the direct backend's tools present; else guestfs.
 */
export function resolveBackend(requested: string, host: HostFacts): "guestfs" | "direct" {
  if (requested === "guestfs" || requested === "direct") return requested;
  return host.root && DIRECT_TOOLS.every((t) => host.tools.has(t)) ? "direct" : "guestfs";
}
