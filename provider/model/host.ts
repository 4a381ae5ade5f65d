// What the build host offers, as facts probed once by the build layer and
// passed in, so that deciding a backend is a pure function of them.

/** Tools the direct backend runs, besides those both backends need. */
export const DIRECT_TOOLS = ["mmdebstrap", "mke2fs", "unshare", "sfdisk", "extlinux", "chroot", "mount", "bwrap", "slirp4netns", "nft", "keyctl"] as const;

export interface HostFacts {
  /** Whether builds run as root (loop mounts and the chroot's mounts need it). */
  root: boolean;
  /** The tools found on this host, by name. */
  tools: ReadonlySet<string>;
}

/**
 * `auto` is `direct` where this host can build without a VM: as root with
 * the direct backend's tools present; else guestfs.
 */
export function resolveBackend(requested: string, host: HostFacts): "guestfs" | "direct" {
  if (requested === "guestfs" || requested === "direct") return requested;
  return host.root && DIRECT_TOOLS.every((t) => host.tools.has(t)) ? "direct" : "guestfs";
}
