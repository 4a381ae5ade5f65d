// Architectures, pure: the Debian architectures an image set may be built
// for, the binfmt_misc interpreter that runs each on another machine, its
// OCI platform, its kernel package, and which of them boot.

/** Debian architectures mmdebstrap and qemu-user build (vm-images:arch). */
export const ARCHES = ["amd64", "arm64", "armhf", "i386", "ppc64el", "riscv64", "s390x"] as const;
export type Arch = (typeof ARCHES)[number];

/** The architecture of images whose stack sets none. */
export const DEFAULT_ARCH: Arch = "amd64";

/** The architecture an image is built for: unset is the default (images built before the setting existed). */
export const archOf = (inputs: { arch?: string }): string => inputs.arch ?? DEFAULT_ARCH;

/** qemu-user's name of each architecture: its binfmt_misc entry is `qemu-<name>`, its emulator `qemu-system-<name>`. */
const QEMU: Record<Arch, string> = {
  amd64: "x86_64", arm64: "aarch64", armhf: "arm", i386: "i386", ppc64el: "ppc64le", riscv64: "riscv64", s390x: "s390x",
};

/** The qemu system emulator that boots an architecture's bootable images (bootFirmware), and its Debian package. */
export const systemEmulator = (arch: string) => (arch === "arm64" ? "qemu-system-aarch64" : "qemu-system-x86_64");
export const systemEmulatorPackage = (arch: string) => (arch === "arm64" ? "qemu-system-arm" : "qemu-system-x86");

/** The binfmt_misc entry that runs an architecture's binaries on another machine. */
export const binfmtEntry = (arch: string) => `qemu-${QEMU[arch as Arch] ?? arch}`;

/** The Debian architecture of a Node.js `process.arch`; undefined for one we do not build on. */
export function debianArchOfNode(nodeArch: string): Arch | undefined {
  const map: Record<string, Arch> = { x64: "amd64", arm64: "arm64", arm: "armhf", ia32: "i386", ppc64: "ppc64el", riscv64: "riscv64", s390x: "s390x" };
  return map[nodeArch];
}

/** The OCI platform of an architecture (the image index's and the config's fields). */
export function ociPlatform(arch: string): { os: "linux"; architecture: string; variant?: string } {
  switch (arch) {
    case "amd64": return { os: "linux", architecture: "amd64" };
    case "arm64": return { os: "linux", architecture: "arm64", variant: "v8" };
    case "armhf": return { os: "linux", architecture: "arm", variant: "v7" };
    case "i386": return { os: "linux", architecture: "386" };
    case "ppc64el": return { os: "linux", architecture: "ppc64le" };
    default: return { os: "linux", architecture: arch };
  }
}

/** A platform as `--platform` spells it: `os/architecture[/variant]`. */
export const platformString = (p: { os: string; architecture: string; variant?: string }): string =>
  [p.os, p.architecture, p.variant].filter(Boolean).join("/");

/** `linux/arm64/v8` of an architecture. */
export const platformText = (arch: string): string => platformString(ociPlatform(arch));

/** The kernel package bootable images get, as lvh's linux-image-amd64. */
export const kernelPackage = (arch: string) => `linux-image-${arch === "armhf" ? "armmp" : arch}`;

/**
 * How an architecture's bootable images start: amd64 from BIOS (an MBR and
 * extlinux, as lvh's), arm64 from UEFI (a GPT with an EFI system partition
 * and GRUB). Others are not bootable here.
 */
export function bootFirmware(arch: string): "bios" | "uefi" | undefined {
  return arch === "amd64" ? "bios" : arch === "arm64" ? "uefi" : undefined;
}
