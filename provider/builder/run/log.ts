// Build logs: every line goes to the image's log file, prefixed with the
// step, and to `echo`: the build's progress, and in verbose mode the
// provider's stderr, which the Pulumi CLI shows the user.
import * as fs from "node:fs";
import { redactUrlCredentials } from "../../model/urlcredentials";

export interface Logger {
  /** The full log of this build. */
  readonly file: string;
  /** Log one line under a label such as "base.img mmdebstrap". */
  line(label: string, text: string): void;
  close(): Promise<void>;
}

/** Where a logged line goes besides the file: the whole line, and its text without the label. */
export type Echo = (line: string, text: string) => void;

/** The provider's stderr: shown by the Pulumi CLI as lines of the stack. */
export const toStderr: Echo = (line) => void process.stderr.write(`${line}\n`);

/**
 * Lines to `file` and to `echo`. `writeTo` writes them elsewhere (a build
 * writes to a temp file and moves it to `file`, which messages name, when it
 * ends: an interrupted build leaves the previous build's log as it was);
 * `append` adds to the file instead of starting it anew.
 */
export function fileLogger(file: string, echo: Echo = () => {}, opts: { writeTo?: string; append?: boolean } = {}): Logger {
  const stream = fs.createWriteStream(opts.writeTo ?? file, { flags: opts.append ? "a" : "w" });
  return {
    file,
    line(label, text) {
      const line = redactUrlCredentials(`${label} | ${text}`);
      stream.write(`${new Date().toISOString()} ${line}\n`);
      echo(line, text);
    },
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}

/** A logger that keeps lines in memory, for tests and dry runs. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { file: "(memory)", lines, line: (label, text) => void lines.push(redactUrlCredentials(`${label} | ${text}`)), close: async () => {} };
}

/** Lines to the provider's stderr only (the Pulumi CLI shows them), for work that has no log file of its own. */
export function stderrLogger(file = "(stderr)"): Logger {
  return { file, line: (label, text) => void process.stderr.write(`${redactUrlCredentials(`${label} | ${text}`)}\n`), close: async () => {} };
}
