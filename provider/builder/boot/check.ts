// The boot check: a built image booted alone from its own disk (BIOS, or
// UEFI firmware for arm64; its own boot loader, kernel and initramfs) under
// qemu (command lines: qemu.ts), kept only if its serial console reaches a
// login prompt within a time limit. A console that shows a failure it
// cannot recover from (a kernel panic, the initramfs shell, systemd's
// emergency mode, a disk the BIOS cannot boot, the UEFI shell, GRUB's rescue
// shell) fails at once. An
// image with sshd must also show sshd started with its host keys, made at
// this first boot: the "sshd: host key ..." lines, then "sshd: started
// with N host keys", that sh/ssh-host-keys.sh's drop-in for ssh.service
// prints once sshd runs.
//
// qemu is started with exec.start() rather than run(): the console is a
// stream whose prompt ends without a newline, and success means stopping
// qemu ourselves.
import { bootFirmware, systemEmulator } from "../../model/arch";
import { CommandError, start } from "../run/exec";
import { type Logger, memoryLogger } from "../run/log";
import type { Step } from "../run/steps";
import { bootCommand, type DiskController, UEFI_FATAL, uefiBootCommand } from "./qemu";

export type { DiskController } from "./qemu";

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

/**
 * A login prompt on the serial console (getty's "<hostname> login: "), at
 * the end of what the console has shown so far: remembered once seen, since
 * what comes after it (sshd's host keys, kernel messages) may go on on the
 * same line.
 */
const LOGIN = /login: *$/m;

/**
 * One host key sshd started with: "sshd: host key 256 SHA256:... root@debian
 * (ED25519)", at the end of a line but not always at its start (the first
 * often follows a login prompt on its line).
 */
const HOST_KEY = /sshd: host key (\d+ SHA256:[A-Za-z0-9+/]+ .*?\([A-Z0-9]+\))$/gm;

/** The line after them: sshd runs, with that many host keys. */
const SSHD_STARTED = /sshd: started with [1-9]\d* host keys$/m;

/** Console text that means sshd will not start (systemd's status line). */
const SSHD_FAILED = /Failed to start ssh\.service[^\n]*/;

/** After a fatal message, how long to keep reading the console for the lines that explain it. */
const FATAL_GRACE_MS = 2_000;

/** Lines of the console quoted in a failure. */
const TAIL_LINES = 25;

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
  /** The image has sshd: pass only once sshd reports the host keys it started with. */
  sshd?: boolean;
  /** The disk's controller: AHCI (the default), or virtio-scsi for a kernel without AHCI, such as Debian's cloud kernels. */
  disk?: DiskController;
  /** The image's Debian architecture; unset: amd64. arm64 boots from UEFI firmware on qemu-system-aarch64 (`disk` is then virtio-blk). */
  arch?: string;
}

export interface BootResult {
  console: string;
  seconds: number;
  /** The host keys sshd started with, as the console showed them ("256 SHA256:... root@debian (ED25519)"). */
  hostKeys: string[];
}

/** The host keys sshd reported on a (cleaned) console. */
export function hostKeysOf(console: string): string[] {
  return [...console.matchAll(HOST_KEY)].map((m) => m[1]);
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

/** Printable console text: no terminal escapes or carriage returns. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r/g, "");
}

/** What a qemu that failed or was stopped before a login prompt (and, with sshd, its host keys) means. */
function qemuFailure(err: unknown, timeoutMs: number, missing: string): string {
  if (!(err instanceof CommandError)) return (err as Error).message;
  if (err.stopped === "timed out") return `${missing} within ${Math.round(timeoutMs / 1000)} s`;
  if (err.stopped === "interrupted") return "interrupted";
  // Not found, or exited with an error: the command, its exit code and stderr.
  return err.message;
}

/** What the console has not shown yet, of what the check waits for. */
function missingOf(out: string, login: boolean, sshd: boolean): string {
  const keys = !sshd || SSHD_STARTED.test(clean(out));
  if (!login) return keys ? "no login prompt" : "no login prompt and no ssh host keys from sshd";
  return "a login prompt, but no ssh host keys from sshd (the image has openssh-server; its keys are made at first boot)";
}

/**
 * Boot the image and wait for a login prompt (and, with `sshd`, sshd's
 * host keys). Resolves with the console text, the seconds it took and the
 * host keys; rejects with a BootCheckError naming what
 * happened and quoting the console's last lines. qemu has ended when it
 * settles.
 */
export async function bootToLogin(opts: BootCheckOptions): Promise<BootResult> {
  const started = Date.now();
  const label = opts.label ?? "boot check";
  const log = opts.log ?? memoryLogger();
  if (opts.signal?.aborted) throw new BootCheckError("boot check not started: the build was interrupted", []);
  const arch = opts.arch ?? "amd64";
  const uefi = bootFirmware(arch) === "uefi";
  const fatals = [...FATAL, ...(uefi ? UEFI_FATAL : []), ...(opts.sshd ? [SSHD_FAILED] : [])];
  // -snapshot (the disk and the firmware's variable store): nothing to clean up, so SIGKILL at once.
  const args = uefi ? uefiBootCommand(opts.image, opts.format) : bootCommand(opts.image, opts.format, opts.accel, undefined, opts.disk);
  const qemu = start(systemEmulator(arch), args, {
    label, log, timeoutMs: opts.timeoutMs, signal: opts.signal, stdout: "pipe", killSignal: "SIGKILL",
  });
  let out = "";
  let pending = "";
  let login = false;
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
      login ||= LOGIN.test(out);
      if (login && (!opts.sshd || SSHD_STARTED.test(clean(out)))) return settle();
      const fatal = fatals.find((re) => re.test(out));
      if (fatal && !fatalTimer) {
        const what = fatal.exec(out)![0].replace(/^\(initramfs\) $/, "dropped to the initramfs shell");
        const cannot = fatal === SSHD_FAILED ? "sshd did not start" : "the guest cannot reach a login prompt";
        fatalTimer = setTimeout(() => settle(`${cannot} (${what.trim()})`), FATAL_GRACE_MS);
      }
    });
    qemu.done.then(
      () => settle(`qemu exited (0) before ${login ? "sshd reported its host keys" : "a login prompt"}`),
      (err: unknown) => settle(qemuFailure(err, opts.timeoutMs, missingOf(out, login, opts.sshd === true))),
    );
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
  const hostKeys = hostKeysOf(clean(out));
  log.line(label, `login prompt after ${seconds.toFixed(1)} s${opts.sshd ? `; sshd started with host keys ${hostKeys.join(", ")}` : ""}`);
  return { console: clean(out), seconds, hostKeys };
}

/** The step that boots a new image from its own disk, before it is renamed into place. */
export function bootCheckStep(disk: string, format: "raw" | "qcow2", opts: { accel: "kvm" | "tcg"; timeoutMs: number; arch: string }, sshd: () => boolean): Step {
  return {
    name: "boot check",
    do: async (ctx) => {
      // An image with sshd passes only once sshd has started with its new host keys.
      await bootToLogin({ image: disk, format, ...opts, sshd: sshd(), signal: ctx.signal, log: ctx.log, label: `${ctx.image} boot check` });
    },
  };
}
