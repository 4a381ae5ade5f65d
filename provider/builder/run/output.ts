// A command's output as its log shows it: split into lines (a carriage
// return ends one too, as progress bars redraw), blank lines dropped, each
// logged as `label | line` with what `redact` names removed, and the last
// lines of stderr kept for the command's error.
import type { Logger } from "./log";

/** Lines of stderr a failed command's error quotes. */
const TAIL_LINES = 15;

/** A command line as the log shows it, quoted for a shell. */
export function quote(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
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

export interface OutputOptions {
  label: string;
  log: Logger;
  /** Keep stdout's lines too (they are logged either way). */
  capture?: boolean;
  redact?: (text: string) => string;
}

/**
 * Log `stdout` (null: the caller reads it) and `stderr` as they arrive.
 * `out` fills with stdout's lines (with `capture`), `tail` with the last
 * lines of stderr.
 */
export function logOutput(
  stdout: NodeJS.ReadableStream | null,
  stderr: NodeJS.ReadableStream | null,
  opts: OutputOptions,
): { out: string[]; tail: string[] } {
  const { label, log } = opts;
  const redact = opts.redact ?? ((l: string) => l);
  const out: string[] = [];
  const tail: string[] = [];
  lines(stdout, (l) => {
    if (opts.capture) out.push(l);
    log.line(label, redact(l));
  });
  lines(stderr, (raw) => {
    const l = redact(raw);
    tail.push(l);
    if (tail.length > TAIL_LINES) tail.shift();
    log.line(label, l);
  });
  return { out, tail };
}
