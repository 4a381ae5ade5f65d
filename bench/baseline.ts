// `npm run bench -- --baseline REF`: the direct backend as it was at another
// commit, measured in the same run as this checkout's, so a change's cost
// (or gain) is a ratio of two times taken on the same machine, caches and
// hour. The commit's files are exported (`git archive`, no worktree left in
// the repository), compiled with this checkout's TypeScript, and given a
// node_modules of their own: this checkout's packages, except that the
// package itself (which the dynamic provider requires by name) is the
// baseline's.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO } from "../test/e2e/harness";

export interface Baseline {
  /** As given, and the commit it names. */
  ref: string;
  commit: string;
  /** The node_modules a project uses to run the baseline's package. */
  nodeModules: string;
  dispose(): void;
}

function must(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { cwd: REPO, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`--baseline: ${what}: ${cmd} ${args.join(" ")} exited ${r.status}\n${(r.stderr ?? "").slice(-3000)}`);
  return r.stdout;
}

export function prepareBaseline(ref: string): Baseline {
  const commit = must("git", ["rev-parse", "--verify", `${ref}^{commit}`], `no commit ${ref}`).trim();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-bench-baseline-"));
  const dispose = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    const tar = path.join(dir, "source.tar");
    must("git", ["archive", "--format=tar", "-o", tar, commit], "export");
    must("tar", ["-xf", tar, "-C", dir], "unpack");
    fs.rmSync(tar);
    const modules = path.join(dir, "node_modules");
    fs.mkdirSync(modules);
    for (const entry of fs.readdirSync(path.join(REPO, "node_modules"))) {
      if (entry !== "pulumi-vm-images") fs.symlinkSync(path.join(REPO, "node_modules", entry), path.join(modules, entry));
    }
    fs.symlinkSync("..", path.join(modules, "pulumi-vm-images"));
    console.error(`bench: baseline ${ref} (${commit.slice(0, 12)}): compiling`);
    must(process.execPath, [path.join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", dir], "compile");
    return { ref, commit, nodeModules: modules, dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}
