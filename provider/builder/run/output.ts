// A command's output as its log shows it: split into lines (a carriage
// return ends one too, as progress bars redraw; a line without end comes in
// pieces), blank lines dropped, each logged as `label | line` with what
// `redact` names removed, stdout kept up to a bound where the caller wants
// it, and the last lines of stderr kept for the command's error.
import type { Logger } from "./log";

/** Lines of stderr a failed command's error quotes. */
const TAIL_LINES = 15;

/** A command line as the log shows it, quoted for a shell. */
export function quote(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

/** The longest line kept whole; a longer one comes in pieces of this size. */
const MAX_LINE = 2 ** 20;

/** Split a stream into lines, calling `onLine` for each complete one; resolves once the last one was handed over. */
function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): Promise<void> {
  if (!stream) return Promise.resolve();
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
    // A command that never ends its line (guest code may print anything) holds no more than this here.
    while (buf.length > MAX_LINE) {
      onLine(buf.slice(0, MAX_LINE));
      buf = buf.slice(MAX_LINE);
    }
  });
  return new Promise((resolve) => {
    stream.on("end", () => {
      if (buf.trim() !== "") onLine(buf);
      resolve();
    });
    stream.on("close", resolve);
    stream.on("error", () => resolve());
  });
}

export interface OutputOptions {
  label: string;
  log: Logger;
  /** Keep stdout's lines too (they are logged, except with "quiet": a long record the caller keeps itself). */
  capture?: boolean | "quiet";
  /** At most this many bytes of stdout are kept; past it, `onOverflow` is called once and nothing more is kept. */
  captureLimit?: number;
  onOverflow?: () => void;
  redact?: (text: string) => string;
}

/**
 * How long the end of a command's output is waited for once it has exited:
 * the end hands over a last line without a newline (crane's JSON), and may
 * come after the exit; not long, as a process it started may hold it open.
 */
const OUTPUT_END_WAIT_MS = 2_000;

/**
 * Log `stdout` (null: the caller reads it) and `stderr` as they arrive.
 * `out` fills with stdout's lines (with `capture`), `tail` with the last
 * lines of stderr; `ended()`, called at the command's exit, resolves once
 * both have ended, or OUTPUT_END_WAIT_MS later.
 */
export function logOutput(
  stdout: NodeJS.ReadableStream | null,
  stderr: NodeJS.ReadableStream | null,
  opts: OutputOptions,
): { out: string[]; tail: string[]; ended: () => Promise<void> } {
  const { label, log } = opts;
  const redact = opts.redact ?? ((l: string) => l);
  const out: string[] = [];
  const tail: string[] = [];
  let kept = 0;
  const outEnded = lines(stdout, (l) => {
    if (opts.capture && kept <= (opts.captureLimit ?? Infinity)) {
      kept += Buffer.byteLength(l) + 1;
      if (kept <= (opts.captureLimit ?? Infinity)) out.push(l);
      else opts.onOverflow?.();
    }
    if (opts.capture !== "quiet") log.line(label, redact(l));
  });
  const errEnded = lines(stderr, (raw) => {
    const l = redact(raw);
    tail.push(l);
    if (tail.length > TAIL_LINES) tail.shift();
    log.line(label, l);
  });
  const both = Promise.all([outEnded, errEnded]);
  return { out, tail, ended: () => Promise.race([both.then(() => undefined), new Promise<void>((r) => setTimeout(r, OUTPUT_END_WAIT_MS).unref())]) };
}

/** How a command that failed or that we stopped ended, in words. */
export function failureStatus(why: string | undefined, exitCode: number | undefined, opts: { timeoutMs: number; captureLimit?: number }): string {
  if (why === "timed out") return `timed out after ${Math.round(opts.timeoutMs / 1000)} s`;
  if (why === "printed too much") return `printed more than ${opts.captureLimit} bytes, more than is taken from it`;
  return why === "interrupted" ? why : `returned non-zero exit code ${exitCode}`;
}
