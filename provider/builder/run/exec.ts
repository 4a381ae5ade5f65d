// The one place that spawns processes (test/unit/onedoor.test.ts holds
// this). Every command gets a timeout, an abort signal, its output logged
// line by line as `label | line`, a heartbeat line during long runs, and an
// error that names the command, its exit code, the last lines of its stderr
// and the log file. run() waits for a command's output; start() hands its
// stdout or stdin to a caller that streams them (a tar, a serial console).
import execa from "execa";
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { searchPath, TOOL_PACKAGES } from "./host";
import type { Logger } from "./log";
import { failureStatus, logOutput, quote } from "./output";
import { childrenOf, ended } from "./proc";
import { redactUrlCredentials } from "../../model/urlcredentials";

export interface RunOptions {
  /** Prefix of every logged line, such as "base.img mmdebstrap". */
  label: string;
  log: Logger;
  /** Kill the command after this long. */
  timeoutMs: number;
  signal?: AbortSignal;
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Only PATH and `env`, nothing of ours (a passphrase, a CI job's tokens): for commands that run guest code. */
  cleanEnv?: boolean;
  input?: string;
  /** A file streamed to the command's stdin. */
  inputFile?: string;
  /** An open file streamed to the command's stdin, and closed after. */
  inputFd?: number;
  /** Also return stdout (logged, except with "quiet"), at most `captureLimit` bytes: a command that prints more is stopped, and fails. */
  capture?: boolean | "quiet";
  captureLimit?: number;
  /**
   * How to stop the command on abort or timeout: SIGTERM, then SIGKILL 2 s
   * later (the default), or at once with SIGKILL for commands whose
   * descendants the kernel ends with them (a PID namespace).
   */
  killSignal?: "SIGTERM" | "SIGKILL";
  /** Removes secrets the command may print (a registry's credentials) from what is logged and thrown. */
  redact?: (text: string) => string;
}

/** What start() adds to run(): streams the caller reads or writes itself. */
export interface StartOptions extends RunOptions {
  /** "pipe": the caller writes the command's stdin (RunningCommand.stdin) and ends it. */
  stdin?: "pipe";
  /**
   * "pipe": the caller reads the command's stdout (RunningCommand.stdout),
   * which is then neither logged nor captured; a file descriptor: the command
   * writes there. Unset: logged line by line.
   */
  stdout?: "pipe" | number;
}

/** A command started by start(). */
export interface RunningCommand {
  /** Its stdout, with `stdout: "pipe"`. */
  stdout: NodeJS.ReadableStream | null;
  /** Its stdin, with `stdin: "pipe"`; a write error means it ended, which `done` reports. */
  stdin: NodeJS.WritableStream | null;
  /**
   * Settles once the command and every process it started have ended:
   * resolves with its stdout (with `capture`), rejects with a CommandError on
   * failure, timeout or abort, exactly as run() does.
   */
  done: Promise<string>;
  /**
   * End it because the caller has what it wanted (a login prompt) or gave
   * up on its output: `done` then resolves, unless the command had already
   * failed on its own.
   */
  stop(): void;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | undefined,
    readonly stderrTail: string[],
    /** Why we stopped the command, when it did not end on its own. */
    readonly stopped?: "interrupted" | "timed out",
  ) {
    super(redactUrlCredentials(message));
    this.stderrTail = stderrTail.map(redactUrlCredentials);
    this.name = "CommandError";
  }
}

/** A minute in milliseconds, the unit of our commands' time limits. */
export const MINUTE = 60_000;

const HEARTBEAT_MS = 30_000;
/** How long a killed command's processes are waited for. */
const KILLED_WAIT_MS = 10_000;

/**
 * As root, every command runs as PID 1 of a PID namespace of its own
 * (unshare --pid --fork --kill-child), killed with this process
 * (setpriv --pdeathsig KILL): whatever it starts ends with it, even when the
 * provider is killed, and stopping it is one SIGKILL to its process group.
 * It also runs in a session of its own (see start()), so that a terminal's
 * Ctrl-C, sent to the whole foreground process group, reaches the provider,
 * which stops it, and not the command itself: a tool that begins its own
 * clean-up on SIGINT and is killed a few milliseconds later, in the middle
 * of it, leaves half of what it was removing (guestfish, its socket
 * directory in /tmp).
 */
function tiedToUs(cmd: string, args: readonly string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [cmd, [...args]];
  return ["setpriv", ["--pdeathsig", "KILL", "unshare", "--pid", "--fork", "--kill-child", "--", cmd, ...args]];
}

/**
 * Wait until the processes have ended, at most `ms`. The first process of a
 * PID namespace ends only once every other process in it has, so for
 * `unshare --kill-child`'s child this waits for the whole command.
 */
async function waitEnded(pids: number[], ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (pids.some((p) => !ended(p)) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

/**
 * How a command ended. execa settles without waiting for the exit when a
 * write to stdin fails (EPIPE: the command ended without reading it all),
 * so the exit is waited for here.
 */
async function exitOf(child: execa.ExecaChildProcess): Promise<{ exitCode?: number; signal?: string; notFound: boolean }> {
  const result = await child;
  if (child.pid === undefined) return { exitCode: result.exitCode, notFound: (result as { code?: string }).code === "ENOENT" };
  if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
  const exitCode = child.exitCode ?? undefined;
  return { exitCode, signal: child.signalCode ?? undefined, notFound: exitCode === 127 };
}

/**
 * Start `cmd args` without a shell: the one implementation of the time
 * limit, the abort signal, the logging, the PID namespace and the session.
 * Throws a CommandError if the signal is already aborted.
 */
export function start(cmd: string, args: readonly string[], opts: StartOptions): RunningCommand {
  const { label, log } = opts;
  const shown = quote([cmd, ...args]);
  if (opts.signal?.aborted) throw new CommandError(`"${shown}" not started: the build was interrupted`, undefined, [], "interrupted");
  log.line(label, `$ ${shown}`);
  const started = Date.now();
  const [file, argv] = tiedToUs(cmd, args);
  // In a PID namespace and a session of its own (as root; see tiedToUs).
  const tied = file !== cmd;
  const given = opts.input !== undefined || opts.inputFile !== undefined || opts.inputFd !== undefined;
  const child = execa(file, argv, {
    cwd: opts.cwd,
    // Tools are found where hostFacts() found them, whatever PATH we were given.
    env: { PATH: searchPath(), ...opts.env },
    extendEnv: !opts.cleanEnv,
    input: opts.inputFd !== undefined || opts.inputFile !== undefined ? createReadStream(opts.inputFile ?? "", { fd: opts.inputFd }) : opts.input,
    stdin: opts.stdin ?? (given ? undefined : "ignore"),
    stdout: typeof opts.stdout === "number" ? opts.stdout : undefined,
    buffer: false,
    reject: false,
    // Killed with the whole build on abort; see `onAbort` below.
    cleanup: true,
    // Its own session, out of reach of the terminal's signals (see tiedToUs).
    // execa's `cleanup` skips a detached command; pdeathsig ends it instead.
    detached: tied,
  });
  // A command that exits before reading all its input fails the write with
  // EPIPE: its exit code tells what happened, not the write error.
  child.stdin?.on("error", () => {});
  const { out, tail, ended: outputEnded } = logOutput(opts.stdout === undefined ? child.stdout : null, child.stderr, { ...opts, onOverflow: () => stop("printed too much") });

  let why: "interrupted" | "timed out" | "stopped" | "printed too much" | undefined;
  // A killed command's PID namespace ends just after unshare: waited for
  // below, so that what it held (files, sockets, mounts) is released when
  // `done` settles.
  let namespaceInit: number[] = [];
  const stop = (reason: NonNullable<typeof why>) => {
    if (why) return;
    why = reason;
    if (tied && child.pid !== undefined) {
      namespaceInit = childrenOf(child.pid);
      // Its whole process group: a child unshare forked a moment ago that
      // has not yet asked for its --kill-child signal would outlive unshare.
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already ended
      }
    } else if (opts.killSignal === "SIGKILL") child.kill("SIGKILL");
    else child.kill("SIGTERM", { forceKillAfterTimeout: 2000 });
  };
  const onAbort = () => stop("interrupted");
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => stop("timed out"), opts.timeoutMs);
  const heartbeat = setInterval(() => {
    log.line(label, `... still running (${Math.round((Date.now() - started) / 1000)} s)`);
  }, HEARTBEAT_MS);

  const done = (async () => {
    try {
      const result = await exitOf(child);
      await waitEnded(namespaceInit, KILLED_WAIT_MS).then(outputEnded);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (result.notFound) {
        const pkg = TOOL_PACKAGES[cmd];
        throw new CommandError(
          `"${cmd}" not found${pkg ? `: install the Debian package ${pkg} (apt-get install ${pkg}), or run npm run setup` : ""}`,
          result.exitCode,
          tail,
        );
      }
      // Stopped by the caller: ended by our signal, or on its own but well.
      if (why === "stopped" && (result.signal || result.exitCode === 0)) {
        log.line(label, `stopped after ${secs} s`);
        return out.join("\n");
      }
      const stopped = why === "interrupted" || why === "timed out" ? why : undefined;
      if (stopped || why === "printed too much" || result.exitCode !== 0) {
        const status = failureStatus(why, result.exitCode, opts);
        const stderr = tail.length ? `\n  last lines of stderr:\n    ${tail.join("\n    ")}` : "";
        throw new CommandError(`"${shown}" ${status}${stderr}\n  full log: ${log.file}`, result.exitCode, tail, stopped);
      }
      log.line(label, `done in ${secs} s`);
      return out.join("\n");
    } finally {
      clearTimeout(timer);
      clearInterval(heartbeat);
      opts.signal?.removeEventListener("abort", onAbort);
    }
  })();
  // A caller may read stdout to its end before it awaits `done`: a failure
  // meanwhile is not an unhandled rejection (it still rejects `done`).
  done.catch(() => {});
  return {
    stdout: opts.stdout === "pipe" ? child.stdout : null,
    stdin: opts.stdin === "pipe" ? child.stdin : null,
    done,
    stop: () => stop("stopped"),
  };
}

/**
 * Run `cmd args` without a shell. Resolves with stdout (when `capture`),
 * rejects with a CommandError on failure, timeout or abort.
 */
export async function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<string> {
  return start(cmd, args, opts).done;
}
