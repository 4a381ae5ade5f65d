import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { assemble, jeq, label, load, ret } from "../../provider/builder/sandbox/bpf";
import { noSyncFilter } from "../../provider/builder/sandbox/nosync";
import { DENIED, I386, seccompProgram, SYNC_CALLS, X86_64 } from "../../provider/builder/sandbox/seccomp";
import { whichTool } from "../../provider/builder/run/host";

/** Run a seccomp program of loads, jumps and returns on one struct seccomp_data, as the kernel does. */
function evaluate(program: Buffer, arch: number, nr: number, arg0 = 0): number {
  let acc = 0;
  for (let pc = 0; pc * 8 < program.length; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) acc = ({ 0: nr, 4: arch, 16: arg0 } as Record<number, number>)[k] ?? NaN;
    else if (code === 0x15) pc += acc === k ? jt : jf;
    else if (code === 0x35) pc += acc >>> 0 >= k ? jt : jf;
    else if (code === 0x45) pc += (acc & k) !== 0 ? jt : jf;
    else if (code === 0x06) return k;
    else throw new Error(`unexpected instruction ${code}`);
  }
  throw new Error("the program ran off its end");
}

const ALLOW = 0x7fff0000;
const SUCCEED = 0x00050000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const CLONE_NEWUSER = 0x10000000;
const SIGCHLD = 17;

/** __NR_* of the kernel's header for an ABI ("64", "32"), if the build host has it (linux-libc-dev). */
function headerNumbers(abi: string): Map<string, number> | undefined {
  const file = `/usr/include/x86_64-linux-gnu/asm/unistd_${abi}.h`;
  if (!fs.existsSync(file)) return undefined;
  return new Map([...fs.readFileSync(file, "utf8").matchAll(/^#define __NR_(\w+) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

describe("the sandbox's seccomp filter", () => {
  const program = seccompProgram();
  const x64 = (nr: number, arg0?: number) => evaluate(program, X86_64.arch, nr, arg0);
  const i386 = (nr: number, arg0?: number) => evaluate(program, I386.arch, nr, arg0);

  it("numbers each call as the kernel's headers do", function () {
    for (const [abi, table] of [["64", X86_64], ["32", I386]] as const) {
      const header = headerNumbers(abi);
      if (!header) this.skip();
      for (const [name, nr] of Object.entries(table.calls)) expect(nr, `${abi}: ${name}`).to.equal(header!.get(name));
      // A call of the list that the ABI has is in its table.
      for (const name of DENIED) expect(table.calls[name], `${abi}: ${name}`).to.equal(header!.get(name));
    }
  });

  it("skips the x86_64 sync calls, returning 0", () => {
    for (const nr of [26, 74, 75, 162, 277, 306]) expect(x64(nr), `syscall ${nr}`).to.equal(SUCCEED);
    expect(SYNC_CALLS.map((c) => X86_64.calls[c])).to.deep.equal([26, 74, 75, 162, 277, 306]);
  });

  it("refuses the deny list with EPERM, by each ABI's numbers", () => {
    // add_key, keyctl, request_key, setns, bpf, perf_event_open, userfaultfd, init_module, kexec_load, open_by_handle_at, io_uring_setup, fsopen, pivot_root
    for (const nr of [248, 250, 249, 308, 321, 298, 323, 175, 246, 304, 425, 430, 155]) expect(x64(nr), `x86_64 ${nr}`).to.equal(EPERM);
    for (const nr of [286, 288, 287, 346, 357, 336, 374, 128, 283, 342, 425, 430, 217, 166]) expect(i386(nr), `i386 ${nr}`).to.equal(EPERM);
    for (const name of DENIED) {
      if (X86_64.calls[name] !== undefined) expect(x64(X86_64.calls[name]!), `x86_64 ${name}`).to.equal(EPERM);
      if (I386.calls[name] !== undefined) expect(i386(I386.calls[name]!), `i386 ${name}`).to.equal(EPERM);
    }
  });

  it("refuses a new user namespace by clone or unshare, and lets other flags through", () => {
    for (const [run, clone, unshare] of [[x64, 56, 272], [i386, 120, 310]] as const) {
      expect(run(clone, CLONE_NEWUSER | SIGCHLD)).to.equal(EPERM);
      expect(run(unshare, CLONE_NEWUSER)).to.equal(EPERM);
      expect(run(unshare, CLONE_NEWUSER | 0x20000 /* CLONE_NEWNS */)).to.equal(EPERM);
      expect(run(clone, SIGCHLD)).to.equal(ALLOW); // fork
      expect(run(clone, 0x3d0f00)).to.equal(ALLOW); // a thread
      expect(run(unshare, 0x200 /* CLONE_FS */)).to.equal(ALLOW);
    }
  });

  it("answers clone3 with ENOSYS, so glibc falls back to clone", () => {
    expect(x64(435)).to.equal(ENOSYS);
    expect(i386(435)).to.equal(ENOSYS);
  });

  it("refuses every x32 call and every call of an unknown ABI", () => {
    for (const nr of [0, 1, 39, 74, 250, 512, 547]) expect(x64(0x40000000 + nr), `x32 ${nr}`).to.equal(EPERM);
    expect(evaluate(program, 0xc00000b7 /* aarch64 */, 0)).to.equal(EPERM);
  });

  it("lets every other call run", () => {
    // read, write, open, close, mmap, ioctl, fork, execve, kill, mount, umount2, sethostname, chroot, openat, name_to_handle_at, adjtimex, ptrace, io_pgetevents
    for (const nr of [0, 1, 2, 3, 9, 16, 57, 59, 62, 165, 166, 170, 161, 257, 303, 159, 101, 333]) expect(x64(nr), `x86_64 ${nr}`).to.equal(ALLOW);
    // i386's fsync (118) runs: its 74 is sethostname, numbers mean nothing across ABIs.
    for (const nr of [3, 4, 5, 11, 74, 118, 148, 120, 310, 248, 250]) expect(i386(nr, SIGCHLD), `i386 ${nr}`).to.equal(ALLOW);
  });

  it("refuses a program whose jump has no label or is out of reach", () => {
    expect(() => assemble([load(0), jeq(1, "nowhere"), ret(0)])).to.throw(/nowhere is not defined/);
    const far = [jeq(1, "end"), ...Array.from({ length: 300 }, () => ret(0)), label("end"), ret(1)];
    expect(() => assemble(far)).to.throw(/out of range/);
  });

  it("really holds under bwrap: fsync skipped, keyctl and a user namespace refused, the rest runs", function () {
    if (process.getuid?.() !== 0 || process.arch !== "x64" || !whichTool("bwrap") || !whichTool("perl")) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-seccomp-"));
    try {
      const filter = noSyncFilter(dir)!;
      expect(fs.readFileSync(filter)).to.deep.equal(program);
      // Each call's result and errno: fsync and read of a descriptor that is not open
      // (EBADF unless skipped), keyctl(KEYCTL_GET_KEYRING_ID, session), unshare(CLONE_NEWUSER), clone3, an x32 getpid.
      const probe = 'for my $c ([74, 999], [0, 999, 0, 0], [250, 0, -3, 0], [272, 0x10000000], [435, 0, 0], [0x40000027]) '
        + '{ $! = 0; my ($nr, @a) = @$c; my $r = syscall($nr, @a); print $r == -1 ? "-1/" . ($! + 0) : "ok", " " } print "\\n"';
      const plain = spawnSync("perl", ["-e", probe], { encoding: "utf8" });
      const filtered = spawnSync("bash", ["-c", 'exec 9<"$1"; exec bwrap --dev-bind / / --seccomp 9 -- perl -e "$2"', "sh", filter, probe], { encoding: "utf8" });
      expect(plain.stdout.trim()).to.match(/^-1\/9 -1\/9 ok ok -1\/(14|22) -1\/38$/);
      expect(filtered.stderr).to.equal("");
      expect(filtered.stdout.trim()).to.equal("ok -1/9 -1/1 -1/1 -1/38 -1/1");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
