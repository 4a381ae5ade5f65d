// How libguestfs runs its appliance here: with KVM only when a short probe
// proves a KVM guest really starts (on some hosts /dev/kvm exists but guests
// hang), else under TCG software emulation. LIBGUESTFS_BACKEND_SETTINGS set
// by the user always wins. The verdict is cached per boot of the host.
import * as fs from "node:fs";
import * as path from "node:path";
import { run } from "../run/exec";
import type { Logger } from "../run/log";

export type Acceleration = "kvm" | "tcg" | "user-settings";

const PROBE_TIMEOUT_MS = 20_000;

function hostKernel(): string | undefined {
  try {
    const k = fs.readdirSync("/boot").filter((f) => f.startsWith("vmlinuz-")).sort().pop();
    return k && path.join("/boot", k);
  } catch {
    return undefined;
  }
}

/** Boot the host's kernel under KVM for a moment: does it print its banner? */
async function kvmWorks(log: Logger, signal: AbortSignal): Promise<boolean> {
  try {
    fs.accessSync("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return false;
  }
  const kernel = hostKernel();
  if (!kernel) return false;
  // A working KVM guest prints the kernel banner within a second or two (and
  // panics for want of a root file system); a hanging one prints nothing
  // until the timeout, which rejects.
  return run(
    "qemu-system-x86_64",
    ["-accel", "kvm", "-m", "256", "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
      "-kernel", kernel, "-append", "console=ttyS0 panic=-1"],
    { label: "kvm-probe", log, signal, timeoutMs: PROBE_TIMEOUT_MS, capture: true },
  ).then((out) => /Linux version/.test(out), () => false);
}

function bootId(): string {
  try {
    return fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "unknown-boot";
  }
}

/**
 * Whether a KVM guest really starts on this host: "kvm" or "tcg". Probed once
 * per boot of the host and cached, for libguestfs and for the boot check.
 */
export async function kvmVerdict(cacheDir: string, log: Logger, signal: AbortSignal): Promise<"kvm" | "tcg"> {
  const verdictFile = path.join(cacheDir, `kvm-probe-${bootId()}`);
  try {
    return fs.readFileSync(verdictFile, "utf8").trim() === "kvm" ? "kvm" : "tcg";
  } catch {
    const verdict = (await kvmWorks(log, signal)) ? "kvm" : "tcg";
    fs.mkdirSync(cacheDir, { recursive: true });
    fs.writeFileSync(verdictFile, `${verdict}\n`);
    return verdict;
  }
}

/** The environment libguestfs tools run with, and which acceleration that means. */
export async function guestfsEnvironment(
  cacheDir: string,
  log: Logger,
  signal: AbortSignal,
): Promise<{ env: Record<string, string>; accel: Acceleration }> {
  const base = { LIBGUESTFS_BACKEND: process.env.LIBGUESTFS_BACKEND ?? "direct" };
  if (process.env.LIBGUESTFS_BACKEND_SETTINGS !== undefined) return { env: base, accel: "user-settings" };
  return (await kvmVerdict(cacheDir, log, signal)) === "kvm"
    ? { env: base, accel: "kvm" }
    : { env: { ...base, LIBGUESTFS_BACKEND_SETTINGS: "force_tcg" }, accel: "tcg" };
}
