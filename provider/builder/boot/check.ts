// The boot check: a built image booted alone from its own disk (BIOS, its
// own boot loader, kernel and initramfs) under qemu, kept only if its serial
// console reaches a login prompt within a time limit. A console that shows a
// failure it cannot recover from (a kernel panic, the initramfs shell,
// systemd's emergency mode, a disk the BIOS cannot boot) fails at once.
//
// qemu is started with exec.start() rather than run(): the console is a
// stream whose prompt ends without a newline, and success means stopping
// qemu ourselves.
import * as os from "node:os";
import { CommandError, start } from "../run/exec";
import { type Logger, memoryLogger } from "../run/log";

/** Console text that means the guest will never reach a login prompt. */
const FATAL = [
  /Kernel panic - not syncing/,
  /^\(initramfs\) /m,
  /You are in emergency mode/,
  /Give root password for maintenance/,
  /Cannot open access to console, the root account is locked/,
  /Boot failed: not a bootable disk/,
  /No bootable device/,
  /Could not find kernel image/,
];

/** A login prompt on the serial console (getty's "<hostname> login: "). */
const LOGIN = /login: *$/m;

/** After a fatal message, how long to keep reading the console for the lines that explain it. */
const FATAL_GRACE_MS = 2_000;

/** Lines of the console quoted in a failure. */
const TAIL_LINES = 25;

export const DEFAULT_BOOT_TIMEOUT_MS = 6 * 60_000;

export interface BootCheckOptions {
  /** The disk image, booted with -snapshot: the check never writes to it. */
  image: string;
  format: "raw" | "qcow2";
  /** "kvm" only where the probe (accel.ts) showed a KVM guest starts. */
  accel: "kvm" | "tcg";
  timeoutMs: number;
  signal?: AbortSignal;
  /** Where console lines go (the image's log), under `label`. */
  log?: Logger;
  label?: string;
  /** Each console line, as it arrives (progress). */
  onLine?: (line: string) => void;
}

export class BootCheckError extends Error {
  constructor(
    message: string,
    readonly consoleTail: string[],
  ) {
    super(message);
    this.name = "BootCheckError";
  }
}

/**
 * The qemu command line that boots `image` from its own disk with a serial
 * console on stdio. On the q35 machine the disk is on its AHCI controller
 * (the guest still sees /dev/sda), which the BIOS reads by DMA rather than
 * the PIO of the older machine's IDE; with two vCPUs (one thread each under
 * TCG) the kernel and systemd start in parallel. Under TCG here: a login
 * prompt after 18-20 s instead of 28-30 s, the same image.
 *
 * The image is the guest's, and qemu's device emulation what it attacks:
 * qemu runs under its seccomp filter (no exec, no obsolete system calls, no
 * changes to its scheduling) and, started as root, as `nobody` once it has
 * opened its files (the disk, /dev/kvm). qemu installs the filter before
 * -runas changes its user, so the filter denies set*uid (new privileges)
 * only to a qemu that is not root: as root, the change of user must pass,
 * and `nobody` has nothing to regain.
 */
export function bootCommand(image: string, format: string, accel: "kvm" | "tcg", asRoot = process.getuid?.() === 0): string[] {
  const cpus = Math.max(1, Math.min(2, os.availableParallelism()));
  return [
    "-machine", "q35", "-accel", accel, "-smp", String(cpus), "-m", "1024",
    "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
    "-snapshot", "-drive", `file=${image},format=${format},if=ide`,
    "-sandbox", `on,obsolete=deny,${asRoot ? "" : "elevateprivileges=deny,"}spawn=deny,resourcecontrol=deny`,
    ...(asRoot ? ["-runas", "nobody"] : []),
  ];
}

/** Printable console text: no terminal escapes or carriage returns. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r/g, "");
}

/** What a qemu that failed or was stopped before a login prompt means. */
function qemuFailure(err: unknown, timeoutMs: number): string {
  if (!(err instanceof CommandError)) return (err as Error).message;
  if (err.stopped === "timed out") return `no login prompt within ${Math.round(timeoutMs / 1000)} s`;
  if (err.stopped === "interrupted") return "interrupted";
  // Not found, or exited with an error: the command, its exit code and stderr.
  return err.message;
}

/**
 * Boot the image and wait for a login prompt. Resolves with the console
 * text and the seconds it took; rejects with a BootCheckError naming what
 * happened and quoting the console's last lines. qemu has ended when it
 * settles.
 */
export async function bootToLogin(opts: BootCheckOptions): Promise<{ console: string; seconds: number }> {
  const started = Date.now();
  const label = opts.label ?? "boot check";
  const log = opts.log ?? memoryLogger();
  if (opts.signal?.aborted) throw new BootCheckError("boot check not started: the build was interrupted", []);
  // -snapshot: nothing to clean up, so SIGKILL at once.
  const qemu = start("qemu-system-x86_64", bootCommand(opts.image, opts.format, opts.accel), {
    label, log, timeoutMs: opts.timeoutMs, signal: opts.signal, stdout: "pipe", killSignal: "SIGKILL",
  });
  let out = "";
  let pending = "";
  // undefined: a login prompt; else why the guest will not reach one.
  const verdict = await new Promise<string | undefined>((resolve) => {
    let settled = false;
    let fatalTimer: NodeJS.Timeout | undefined;
    const settle = (err?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(fatalTimer);
      resolve(err);
    };
    qemu.stdout!.on("data", (d: Buffer) => {
      // Escapes are removed per line: a chunk may end inside one.
      const text = d.toString("utf8");
      out += text;
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = clean(pending.slice(0, nl)).trimEnd();
        pending = pending.slice(nl + 1);
        if (line.trim() === "") continue;
        log.line(label, line);
        opts.onLine?.(line);
      }
      if (settled) return;
      if (LOGIN.test(out)) return settle();
      const fatal = FATAL.find((re) => re.test(out));
      if (fatal && !fatalTimer) {
        const what = fatal.exec(out)![0].replace(/^\(initramfs\) $/, "dropped to the initramfs shell");
        fatalTimer = setTimeout(() => settle(`the guest cannot reach a login prompt (${what.trim()})`), FATAL_GRACE_MS);
      }
    });
    qemu.done.then(() => settle("qemu exited (0) before a login prompt"), (err: unknown) => settle(qemuFailure(err, opts.timeoutMs)));
  });
  qemu.stop();
  await qemu.done.catch(() => {});
  if (clean(pending).trim()) log.line(label, clean(pending));
  const seconds = (Date.now() - started) / 1000;
  const tail = clean(out).split("\n").map((l) => l.trimEnd()).filter((l) => l !== "").slice(-TAIL_LINES);
  if (verdict !== undefined) {
    log.line(label, `boot check failed after ${seconds.toFixed(1)} s: ${verdict}`);
    throw new BootCheckError(`boot check failed: ${verdict}\n  last lines of the console:\n    ${tail.join("\n    ")}`, tail);
  }
  log.line(label, `login prompt after ${seconds.toFixed(1)} s`);
  return { console: clean(out), seconds };
}
