import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { noSyncFilter, noSyncProgram } from "../../provider/builder/sandbox/nosync";
import { whichTool } from "../../provider/builder/run/host";

/** Run a seccomp program of loads, equality jumps and returns on one struct seccomp_data. */
function evaluate(program: Buffer, nr: number, arch: number): number {
  let acc = 0;
  for (let pc = 0; pc * 8 < program.length; ) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) acc = k === 0 ? nr : k === 4 ? arch : NaN;
    else if (code === 0x15) pc += acc === k ? jt : jf;
    else if (code === 0x06) return k;
    else throw new Error(`unexpected instruction ${code}`);
    pc++;
  }
  throw new Error("the program ran off its end");
}

describe("no-sync seccomp filter", () => {
  const X86_64 = 0xc000003e;
  const ALLOW = 0x7fff0000;
  const SUCCEED = 0x00050000;
  const program = noSyncProgram();

  it("skips the x86_64 sync calls, returning 0", () => {
    for (const nr of [26, 74, 75, 162, 277, 306]) expect(evaluate(program, nr, X86_64), `syscall ${nr}`).to.equal(SUCCEED);
  });
  it("lets every other call run", () => {
    for (const nr of [0, 1, 2, 3, 25, 27, 73, 76, 161, 163, 257, 276, 278, 305, 307, 435]) {
      expect(evaluate(program, nr, X86_64), `syscall ${nr}`).to.equal(ALLOW);
    }
  });
  it("lets another ABI's calls run, whatever their number", () => {
    // i386's fsync is 118, and its 74 is sethostname: numbers mean nothing across ABIs.
    for (const nr of [74, 118, 148]) expect(evaluate(program, nr, 0x40000003), `i386 syscall ${nr}`).to.equal(ALLOW);
  });

  it("really skips fsync under bwrap, and nothing else", function () {
    if (process.getuid?.() !== 0 || process.arch !== "x64" || !whichTool("bwrap") || !whichTool("perl")) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-nosync-"));
    try {
      const filter = noSyncFilter(dir)!;
      expect(fs.readFileSync(filter)).to.deep.equal(program);
      // fsync of a descriptor that is not open fails with EBADF, unless it never runs;
      // a read of it fails either way.
      const probe = '$! = 0; my $f = syscall(74, 999); my $fe = $! + 0; $! = 0; my $r = syscall(0, 999, 0, 0); my $re = $! + 0; print "$f $fe $r $re\\n"';
      const plain = spawnSync("perl", ["-e", probe], { encoding: "utf8" });
      const filtered = spawnSync("bash", ["-c", 'exec 9<"$1"; exec bwrap --dev-bind / / --seccomp 9 -- perl -e "$2"', "sh", filter, probe], { encoding: "utf8" });
      expect(plain.stdout.trim()).to.equal("-1 9 -1 9");
      expect(filtered.stderr).to.equal("");
      expect(filtered.stdout.trim()).to.equal("0 0 -1 9");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
