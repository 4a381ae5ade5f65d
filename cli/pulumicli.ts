// The project's Pulumi CLI as `npm run pulumi` runs it: scripts/pulumi.js
// (offline settings, waiting for a locked stack, cleaning up after a killed
// CLI) in a Node.js process of its own, so that these commands and a user
// typing `npm run pulumi -- ...` run the very same thing.
import { spawnSync, type StdioOptions } from "node:child_process";
import * as path from "node:path";
import { PACKAGE_ROOT } from "../provider/builder/run/packageroot";

const WRAPPER = path.join(PACKAGE_ROOT, "scripts", "pulumi.js");

/**
 * Where the CLI's output goes: "inherit" to the terminal; "stdout" captures
 * stdout (for --json) and shows errors; "quiet" captures both, for the steps
 * around the command the user asked for.
 */
export type Output = "inherit" | "stdout" | "quiet";

export interface PulumiRun {
  /** The CLI's exit code; 1 if it was killed. */
  status: number;
  /** What it printed, where captured; "" otherwise. */
  stdout: string;
  stderr: string;
}

/** Run the CLI to its end, in `cwd` (default: ours). */
export function pulumi(args: readonly string[], opts: { cwd?: string; output?: Output } = {}): PulumiRun {
  const output = opts.output ?? "inherit";
  const stdio: StdioOptions = output === "inherit" ? "inherit" : ["ignore", "pipe", output === "quiet" ? "pipe" : "inherit"];
  const r = spawnSync(process.execPath, [WRAPPER, ...args], { cwd: opts.cwd, encoding: "utf8", stdio });
  return { status: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/**
 * Run the CLI and return what it printed on stdout; if it fails, exit with
 * its exit code, after showing what a quiet run held back.
 */
export function mustPulumi(args: readonly string[], opts: { cwd?: string; output?: Output } = {}): string {
  const r = pulumi(args, opts);
  if (r.status !== 0) {
    if (opts.output === "quiet") process.stderr.write(r.stderr || r.stdout);
    process.exit(r.status);
  }
  return r.stdout;
}
