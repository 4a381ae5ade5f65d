// The seccomp filter of the commands that run guest code while building
// (bwrap loads it: sh/sandbox-run.sh, sh/bootstrap-disk.sh). Two parts:
//
// - No durability: fsync and its kin return 0 without running. A build that
//   crashes is thrown away whole, and through a loop-mounted file system each
//   flush is a journal commit and a flush of the disk file (dpkg makes
//   thousands while installing docker.io). As eatmydata does, from outside.
// - A deny list in the spirit of Docker's default profile, refused with
//   EPERM as Docker does: calls that reach state shared with the build host
//   (the kernel keyrings, which root in the sandbox shares with the host's
//   root), that make a user namespace (in which the dropped capabilities come
//   back), or that are large kernel attack surface no package script needs
//   (io_uring, bpf, perf events, userfaultfd). The rest (modules, kexec,
//   reboot, swap, clock, raw I/O, the new mount API, pivot_root) also need a
//   capability the sandbox drops; the list refuses them whatever the
//   capabilities, as Docker's does.
//
// clone3 returns ENOSYS, as under Docker: its flags are behind a pointer
// seccomp cannot read, and glibc then falls back to clone, whose flags it
// can. x32 calls (x86_64's arch with bit 30 set in the number) are refused
// whole: nothing in a Debian image is x32. i386 calls (int 0x80) get the
// same list by their own numbers rather than a refusal: an amd64 image with
// i386 packages may run i386 programs while it is built.
import { assemble, type Instruction, jeq, jge, jset, label, load, ret, SECCOMP_DATA } from "./bpf";

/** Each ABI's numbers of the calls the filter names (absent: the ABI has no such call). */
interface Abi {
  arch: number;
  calls: Partial<Record<Call, number>>;
}

/** fsync and its kin: only waiting for data to reach the disk. */
export const SYNC_CALLS = ["msync", "fsync", "fdatasync", "sync", "sync_file_range", "syncfs"] as const;

export const DENIED = [
  // The kernel keyrings: the host root's user keyring is the guest's too.
  "add_key", "keyctl", "request_key",
  // Namespaces: entering one needs a capability the sandbox drops; a new
  // user namespace (clone and unshare with CLONE_NEWUSER, below) would give it.
  "setns",
  // Large attack surface no package script needs.
  "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "perf_event_open", "userfaultfd",
  // The host's kernel, boot, swap, clock and accounting.
  "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
  "reboot", "swapon", "swapoff", "acct", "settimeofday", "stime", "clock_settime", "clock_settime64",
  // Raw hardware and the kernel's profiling.
  "iopl", "ioperm", "vm86", "vm86old", "lookup_dcookie",
  // Files by handle (past the mount's root), quotas, mounts by file descriptor, the root's move.
  "open_by_handle_at", "quotactl", "quotactl_fd",
  "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "pivot_root",
] as const;

const NAMESPACE_CALLS = ["clone", "unshare", "clone3"] as const;
type Call = (typeof SYNC_CALLS)[number] | (typeof DENIED)[number] | (typeof NAMESPACE_CALLS)[number];

/** Calls numbered alike in every ABI (since Linux 5.1). */
const COMMON = {
  io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427, open_tree: 428, move_mount: 429,
  fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, clone3: 435, mount_setattr: 442, quotactl_fd: 443,
} as const;

export const X86_64: Abi = {
  arch: 0xc000003e,
  calls: {
    ...COMMON,
    msync: 26, fsync: 74, fdatasync: 75, sync: 162, sync_file_range: 277, syncfs: 306,
    add_key: 248, request_key: 249, keyctl: 250, setns: 308, clone: 56, unshare: 272,
    bpf: 321, perf_event_open: 298, userfaultfd: 323,
    kexec_load: 246, kexec_file_load: 320, init_module: 175, finit_module: 313, delete_module: 176,
    reboot: 169, swapon: 167, swapoff: 168, acct: 163, settimeofday: 164, clock_settime: 227,
    iopl: 172, ioperm: 173, lookup_dcookie: 212, open_by_handle_at: 304, quotactl: 179, pivot_root: 155,
  },
};

export const I386: Abi = {
  arch: 0x40000003,
  calls: {
    ...COMMON,
    add_key: 286, request_key: 287, keyctl: 288, setns: 346, clone: 120, unshare: 310,
    bpf: 357, perf_event_open: 336, userfaultfd: 374,
    kexec_load: 283, init_module: 128, finit_module: 350, delete_module: 129,
    reboot: 88, swapon: 87, swapoff: 115, acct: 51, settimeofday: 79, stime: 25, clock_settime: 264, clock_settime64: 404,
    iopl: 110, ioperm: 101, vm86: 166, vm86old: 113, lookup_dcookie: 253, open_by_handle_at: 342, quotactl: 131, pivot_root: 217,
  },
};

/** x32 calls: x86_64's arch, with this bit set in the number. */
export const X32_SYSCALL_BIT = 0x40000000;
export const CLONE_NEWUSER = 0x10000000;

export const SECCOMP_RET_ALLOW = 0x7fff0000;
/** SECCOMP_RET_ERRNO: the call is skipped and fails with errno (0: returns 0). */
export const errno = (e: number) => 0x00050000 | e;
export const EPERM = 1;
export const ENOSYS = 38;

/** The jumps of one ABI: to `succeed` for the sync calls, `deny` for the list, `nosys` for clone3, `flags` for clone and unshare. */
function calls(abi: Abi, sync: readonly Call[], flagsLabel: string): Instruction[] {
  const nr = (c: Call) => abi.calls[c];
  const to = (names: readonly Call[], target: string) => names.filter((c) => nr(c) !== undefined).map((c) => jeq(nr(c)!, target));
  return [
    load(SECCOMP_DATA.nr),
    ...to(sync, "succeed"),
    ...to(DENIED, "deny"),
    ...to(["clone3"], "nosys"),
    ...to(["clone", "unshare"], flagsLabel),
    ret(SECCOMP_RET_ALLOW),
  ];
}

/**
 * The filter program: on x86_64 the sync calls return 0 without running,
 * and for x86_64 and i386 the deny list fails with EPERM, clone and unshare
 * with CLONE_NEWUSER too, clone3 with ENOSYS; x32 and any other ABI fail
 * with EPERM; everything else runs.
 */
export function seccompProgram(): Buffer {
  return assemble([
    load(SECCOMP_DATA.arch),
    jeq(X86_64.arch, undefined, "other-abi"),
    load(SECCOMP_DATA.nr),
    jge(X32_SYSCALL_BIT, "deny"),
    ...calls(X86_64, SYNC_CALLS, "flags"),
    label("other-abi"),
    jeq(I386.arch, undefined, "deny"),
    ...calls(I386, [], "flags"),
    // clone's and unshare's flags are their first argument in both ABIs.
    label("flags"),
    load(SECCOMP_DATA.arg0Low),
    jset(CLONE_NEWUSER, "deny"),
    ret(SECCOMP_RET_ALLOW),
    label("succeed"), ret(errno(0)),
    label("deny"), ret(errno(EPERM)),
    label("nosys"), ret(errno(ENOSYS)),
  ]);
}
