// The seccomp filter's file (seccomp.ts: fsync and its kin as no-ops, and
// the deny list) for the scripts that run guest code under bwrap, which
// loads it (`bwrap --seccomp FD`); everything the command starts inherits
// it. Named for its first part, as its variable VM_IMAGES_NOSYNC is.
import * as fs from "node:fs";
import * as path from "node:path";
import { seccompProgram } from "./seccomp";

/**
 * The filter, written into `dir` (a build's work directory), for
 * VM_IMAGES_NOSYNC of sh/sandbox-run.sh and sh/bootstrap-disk.sh; undefined
 * where it does not apply: without root (bubblewrap would need a user
 * namespace, in which mmdebstrap cannot map its users) or on another
 * architecture than x86_64.
 */
export function noSyncFilter(dir: string): string | undefined {
  if (process.getuid?.() !== 0 || process.arch !== "x64") return undefined;
  const file = path.join(dir, "seccomp.bpf");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, seccompProgram());
  }
  return file;
}

/** The environment that gives those scripts the filter of `dir` (see noSyncFilter), or nothing where it does not apply. */
export function noSyncEnv(dir: string): Record<string, string> {
  const file = noSyncFilter(dir);
  return file ? { VM_IMAGES_NOSYNC: file } : {};
}
