// The fingerprint of the pipeline's sources: every file that decides what an
// image contains. That is every module the backends import, directly or
// not, and the shell scripts they run, less the modules listed below, which
// change how a build runs or is shown but never what it writes.
// `node dist/test/support/pipeline.js` prints it.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { importClosure, PROVIDER, sources } from "./imports";

/** Where the closure starts: the backends, and the safe build that runs their steps. */
const ROOTS = ["builder/backends", "builder/image/safebuild.ts"];

/** Shell scripts, read by path at run time (no import leads to them). */
const SCRIPTS = ["builder/sh", "actions/sh"];

/** Modules the backends reach that never change an image's bytes, with why. */
export const HOW_NOT_WHAT: Record<string, string> = {
  "model/buildkey.ts": "records this fingerprint; its key material is the build key's own concern",
  "model/cachepolicy.ts": "how much the per-user cache keeps",
  "model/identity.ts": "how a file is recognized (inode, size, time)",
  "model/host.ts": "which tools the host has",
  "builder/run/exec.ts": "how a command is started, logged and stopped",
  "builder/run/output.ts": "how a command's output is logged",
  "builder/run/log.ts": "where lines are written",
  "builder/run/host.ts": "where tools are found",
  "builder/run/proc.ts": "reading /proc",
  "builder/run/packageroot.ts": "where the package's files are",
  "builder/run/steps.ts": "steps in order, with timings and cleanups",
  "builder/run/progress.ts": "what the user sees",
  "builder/cache/dirs.ts": "where the per-user cache is",
  "builder/cache/filecache.ts": "how a cached file is stored and evicted",
  "builder/backends/guestfstemp.ts": "libguestfs's temporary directories",
  "builder/boot/check.ts": "the boot check only reads the finished image",
};

const rel = (f: string) => path.relative(PROVIDER, f).split(path.sep).join("/");

function filesUnder(relative: string): string[] {
  const p = path.join(PROVIDER, relative);
  if (!fs.statSync(p).isDirectory()) return [p];
  return fs.readdirSync(p, { withFileTypes: true }).flatMap((e) => filesUnder(path.join(relative, e.name)));
}

/** The modules the roots import, directly or not, relative to provider/. */
export function reachedModules(): string[] {
  const roots = ROOTS.flatMap((r) => (r.endsWith(".ts") ? [path.join(PROVIDER, r)] : sources(path.join(PROVIDER, r))));
  return [...importClosure(roots)].map(rel);
}

/** The files the fingerprint covers, relative to provider/, sorted. */
export function pipelineSources(): string[] {
  const modules = reachedModules().filter((f) => !(f in HOW_NOT_WHAT));
  const scripts = SCRIPTS.flatMap(filesUnder).map(rel);
  return [...new Set([...modules, ...scripts])].sort();
}

export function pipelineFingerprint(): string {
  const hash = createHash("sha256");
  for (const f of pipelineSources()) hash.update(`${f}\0`).update(fs.readFileSync(path.join(PROVIDER, f))).update("\0");
  return hash.digest("hex");
}

if (require.main === module) console.log(pipelineFingerprint());
