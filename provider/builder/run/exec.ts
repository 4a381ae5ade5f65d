// The one place that spawns processes. Every command gets a timeout, an
// abort signal, its output logged line by line as `label | line`, a heartbeat
// line during long runs, and an error that names the command, its exit code,
// the last lines of its stderr and the log file.
import execa from "execa";
import { createReadStream } from "node:fs";
import { searchPath, TOOL_PACKAGES } from "./host";
import type { Logger } from "./log";
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
  input?: string;
  /** A file streamed to the command's stdin. */
  inputFile?: string;
  /** Also return stdout (it is logged either way). */
  capture?: boolean;
  /**
   * How to stop the command on abort or timeout: SIGTERM, then SIGKILL 2 s
   * later (the default), or at once with SIGKILL for commands whose
   * descendants the kernel ends with them (a PID namespace).
   */
  killSignal?: "SIGTERM" | "SIGKILL";
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | undefined,
    readonly stderrTail: string[],
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
const TAIL_LINES = 15;

function quote(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

/**
 * As root, every command runs as PID 1 of a PID namespace of its own
 * (unshare --pid --fork --kill-child), killed with this process
 * (setpriv --pdeathsig KILL): whatever it starts ends with it, even when the
 * provider is killed, and stopping it is one SIGKILL. It also runs in a
 * session of its own (see run()), so that a terminal's Ctrl-C, sent to the
 * whole foreground process group, reaches the provider, which stops it, and
 * not the command itself: a tool that begins its own clean-up on SIGINT and
 * is killed a few milliseconds later, in the middle of it, leaves half of
 * what it was removing (guestfish, its socket directory in /tmp).
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

/** Split a stream into lines, calling `onLine` for each complete one. */
function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.search(/[\r\n]/)) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim() !== "") onLine(line);
    }
  });
  stream.on("end", () => buf.trim() !== "" && onLine(buf));
}

/**
 * Run `cmd args` without a shell. Resolves with stdout (when `capture`),
 * rejects with a CommandError on failure, timeout or abort.
 */
export async function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<string> {
  const { label, log } = opts;
  const shown = quote([cmd, ...args]);
  if (opts.signal?.aborted) throw new CommandError(`"${shown}" not started: the build was interrupted`, undefined, []);
  log.line(label, `$ ${shown}`);
  const started = Date.now();
  const [file, argv] = tiedToUs(cmd, args);
  // In a PID namespace and a session of its own (as root; see tiedToUs).
  const tied = file !== cmd;
  const child = execa(file, argv, {
    cwd: opts.cwd,
    // Tools are found where hostFacts() found them, whatever PATH we were given.
    env: { PATH: searchPath(), ...opts.env },
    extendEnv: true,
    input: opts.inputFile !== undefined ? createReadStream(opts.inputFile) : opts.input,
    stdin: opts.input === undefined && opts.inputFile === undefined ? "ignore" : undefined,
    buffer: false,
    reject: false,
    // Killed with the whole build on abort; see `onAbort` below.
    cleanup: true,
    // Its own session, out of reach of the terminal's signals (see tiedToUs).
    // execa's `cleanup` skips a detached command; pdeathsig ends it instead.
    detached: tied,
  });
  const out: string[] = [];
  const tail: string[] = [];
  lines(child.stdout, (l) => {
    if (opts.capture) out.push(l);
    log.line(label, l);
  });
  lines(child.stderr, (l) => {
    tail.push(l);
    if (tail.length > TAIL_LINES) tail.shift();
    log.line(label, l);
  });

  let why: string | undefined;
  // A killed command's PID namespace ends just after unshare: waited for
  // below, so that what it held (files, sockets, mounts) is released when
  // run() returns.
  let namespaceInit: number[] = [];
  const stop = (reason: string) => {
    if (why) return;
    why = reason;
    if (tied && child.pid !== undefined) namespaceInit = childrenOf(child.pid);
    if (opts.killSignal === "SIGKILL" || tied) child.kill("SIGKILL");
    else child.kill("SIGTERM", { forceKillAfterTimeout: 2000 });
  };
  const onAbort = () => stop("interrupted");
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => stop(`timed out after ${Math.round(opts.timeoutMs / 1000)} s`), opts.timeoutMs);
  const heartbeat = setInterval(() => {
    log.line(label, `... still running (${Math.round((Date.now() - started) / 1000)} s)`);
  }, HEARTBEAT_MS);

  try {
    const result = await child;
    await waitEnded(namespaceInit, KILLED_WAIT_MS);
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const notFound = (result as { code?: string }).code === "ENOENT" || result.exitCode === 127;
    if (notFound) {
      const pkg = TOOL_PACKAGES[cmd];
      throw new CommandError(
        `"${cmd}" not found${pkg ? `: install the Debian package ${pkg} (apt-get install ${pkg}), or run npm run setup` : ""}`,
        result.exitCode,
        tail,
      );
    }
    if (why || result.exitCode !== 0) {
      const status = why ?? `returned non-zero exit code ${result.exitCode}`;
      const stderr = tail.length ? `\n  last lines of stderr:\n    ${tail.join("\n    ")}` : "";
      throw new CommandError(`"${shown}" ${status}${stderr}\n  full log: ${log.file}`, result.exitCode, tail);
    }
    log.line(label, `done in ${secs} s`);
    return out.join("\n");
  } finally {
    clearTimeout(timer);
    clearInterval(heartbeat);
    opts.signal?.removeEventListener("abort", onAbort);
  }
}
