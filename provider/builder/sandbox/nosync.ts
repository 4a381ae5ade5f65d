// No durability while building: a seccomp filter that turns fsync and its
// kin into no-ops that succeed, for the commands that write an image under
// construction (mmdebstrap, apt-get and dpkg, the actions). A build that
// crashes is thrown away whole, so those flushes buy nothing, and through a
// loop-mounted file system each one is a journal commit and a flush of the
// disk file: dpkg alone makes thousands while installing docker.io. What the
// files contain is unchanged; only when they reach the host's disk is.
//
// As eatmydata does, but from outside: nothing is installed into the image.
// bubblewrap loads the filter (`bwrap --seccomp FD`), and it is inherited by
// everything the command starts.
import * as fs from "node:fs";
import * as path from "node:path";

/** x86_64 syscall numbers of the calls that only wait for data to reach the disk. */
const SYNC_CALLS = {
  msync: 26,
  fsync: 74,
  fdatasync: 75,
  sync: 162,
  sync_file_range: 277,
  syncfs: 306,
} as const;

const AUDIT_ARCH_X86_64 = 0xc000003e;
// Classic BPF as seccomp reads it: struct seccomp_data { int nr; __u32 arch; ... }.
const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_RET_K = 0x06;
const SECCOMP_RET_ALLOW = 0x7fff0000;
/** SECCOMP_RET_ERRNO with errno 0: the call is skipped and returns 0. */
const SECCOMP_RET_SUCCEED = 0x00050000;

function instruction(code: number, jt: number, jf: number, k: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(code, 0);
  b.writeUInt8(jt, 2);
  b.writeUInt8(jf, 3);
  b.writeUInt32LE(k >>> 0, 4);
  return b;
}

/**
 * The filter program (an array of struct sock_filter, as `bwrap --seccomp`
 * reads it): on x86_64, the sync calls return 0 without running; every other
 * call, and every call of another architecture's ABI, runs.
 */
export function noSyncProgram(): Buffer {
  const calls = Object.values(SYNC_CALLS);
  const n = calls.length;
  return Buffer.concat([
    instruction(BPF_LD_W_ABS, 0, 0, 4), // arch
    instruction(BPF_JEQ_K, 0, n + 1, AUDIT_ARCH_X86_64), // another ABI: allow
    instruction(BPF_LD_W_ABS, 0, 0, 0), // syscall number
    // The i-th comparison jumps over the n-1-i after it and the allow.
    ...calls.map((nr, i) => instruction(BPF_JEQ_K, n - i, 0, nr)),
    instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
    instruction(BPF_RET_K, 0, 0, SECCOMP_RET_SUCCEED),
  ]);
}

/**
 * The filter, written into `dir` (a build's work directory), for
 * VM_IMAGES_NOSYNC of sh/sandbox-run.sh and sh/bootstrap-disk.sh; undefined
 * where it does not apply: without root (bubblewrap would need a user
 * namespace, in which mmdebstrap cannot map its users) or on another
 * architecture than x86_64.
 */
export function noSyncFilter(dir: string): string | undefined {
  if (process.getuid?.() !== 0 || process.arch !== "x64") return undefined;
  const file = path.join(dir, "nosync.bpf");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, noSyncProgram());
  }
  return file;
}

/** The environment that gives those scripts the filter of `dir` (see noSyncFilter), or nothing where it does not apply. */
export function noSyncEnv(dir: string): Record<string, string> {
  const file = noSyncFilter(dir);
  return file ? { VM_IMAGES_NOSYNC: file } : {};
}
