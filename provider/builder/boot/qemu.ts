// The qemu command lines of the boot check, one per way an image boots:
// amd64 from BIOS on the q35 machine, arm64 from UEFI firmware (Debian's
// qemu-efi-aarch64, AAVMF) on the virt machine, always under TCG there
// (another architecture's guest has no KVM). What a console shows when the
// firmware or the boot loader cannot go on, and how long each may take.
import * as fs from "node:fs";
import * as os from "node:os";
import { bootFirmware } from "../../model/arch";

export type DiskController = "ahci" | "virtio-scsi";

/** A login prompt under KVM or TCG on amd64 takes well under a minute here; the limit leaves room for slow machines. */
export const DEFAULT_BOOT_TIMEOUT_MS = 6 * 60_000;

/**
 * An arm64 guest under TCG on an amd64 host: every instruction translated,
 * the firmware too (about ten times slower than an amd64 guest here).
 */
export const FOREIGN_BOOT_TIMEOUT_MS = 20 * 60_000;

/** The boot check's default time limit for an image of `arch`. */
export const defaultBootTimeoutMs = (arch = "amd64") => (bootFirmware(arch) === "uefi" ? FOREIGN_BOOT_TIMEOUT_MS : DEFAULT_BOOT_TIMEOUT_MS);

/** Debian's arm64 UEFI firmware (package qemu-efi-aarch64): its code, and the template of its variable store. */
export const AAVMF = { code: "/usr/share/AAVMF/AAVMF_CODE.fd", vars: "/usr/share/AAVMF/AAVMF_VARS.fd", package: "qemu-efi-aarch64" };

/** Whether the host has what boots a UEFI image: the firmware's two files. */
export const hasUefiFirmware = () => fs.existsSync(AAVMF.code) && fs.existsSync(AAVMF.vars);

/**
 * Console text of a UEFI boot that will never reach a login prompt: the
 * firmware's shell (it found nothing to boot), GRUB's rescue shell (its
 * embedded configuration failed), GRUB's refusal to boot without a kernel.
 */
export const UEFI_FATAL = [/Shell> /, /grub rescue> /, /you need to load the kernel first/];

/**
 * qemu's sandbox: its seccomp filter (no exec, no obsolete system calls, no
 * changes to its scheduling) and, started as root, `nobody` once it has
 * opened its files (the disk, the firmware, /dev/kvm). qemu installs the
 * filter before -runas changes its user, so the filter denies set*uid (new
 * privileges) only to a qemu that is not root: as root, the change of user
 * must pass, and `nobody` has nothing to regain.
 */
function confinement(asRoot: boolean): string[] {
  return [
    "-sandbox", `on,obsolete=deny,${asRoot ? "" : "elevateprivileges=deny,"}spawn=deny,resourcecontrol=deny`,
    ...(asRoot ? ["-runas", "nobody"] : []),
  ];
}

/** Two vCPUs where the host has them (one thread each under TCG): the kernel and systemd start in parallel. */
const cpus = () => String(Math.max(1, Math.min(2, os.availableParallelism())));

/**
 * The qemu command line that boots an amd64 `image` from its own disk with
 * a serial console on stdio. On the q35 machine the disk is on its AHCI
 * controller (the guest still sees /dev/sda), which the BIOS reads by DMA
 * rather than the PIO of the older machine's IDE. Under TCG here: a login
 * prompt after 18-20 s instead of 28-30 s, the same image. A kernel without
 * AHCI (Debian's cloud kernels have virtio drivers only) boots from a
 * virtio-scsi controller, where it still sees /dev/sda.
 */
export function bootCommand(image: string, format: string, accel: "kvm" | "tcg", asRoot = process.getuid?.() === 0, disk: DiskController = "ahci"): string[] {
  const drive = disk === "ahci"
    ? ["-drive", `file=${image},format=${format},if=ide`]
    : ["-device", "virtio-scsi-pci,id=scsi0", "-drive", `file=${image},format=${format},if=none,id=disk0`, "-device", "scsi-hd,drive=disk0,bus=scsi0.0"];
  return [
    "-machine", "q35", "-accel", accel, "-smp", cpus(), "-m", "1024",
    "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
    "-snapshot", ...drive,
    ...confinement(asRoot),
  ];
}

/**
 * The qemu-system-aarch64 command line that boots an arm64 `image` from
 * UEFI firmware: the virt machine, the `max` CPU (pauth-impdef: its pointer
 * authentication's cheaper algorithm, much faster under TCG), the firmware's
 * code read-only and its variable store from `vars` (-snapshot: neither
 * file is written), the disk on virtio-blk, the first serial port (the
 * guest's ttyAMA0) on stdio.
 */
export function uefiBootCommand(image: string, format: string, asRoot = process.getuid?.() === 0, vars = AAVMF.vars): string[] {
  return [
    "-machine", "virt", "-cpu", "max,pauth-impdef=on", "-accel", "tcg", "-smp", cpus(), "-m", "1024",
    "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
    "-snapshot",
    "-drive", `if=pflash,format=raw,unit=0,file=${AAVMF.code},readonly=on`,
    "-drive", `if=pflash,format=raw,unit=1,file=${vars}`,
    "-drive", `file=${image},format=${format},if=none,id=disk0`, "-device", "virtio-blk-pci,drive=disk0",
    ...confinement(asRoot),
  ];
}
