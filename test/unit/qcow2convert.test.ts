// The direct backend's qcow2 conversion with the real qemu-img: with O_DIRECT
// or through the page cache, and the page cache where the file system
// refuses O_DIRECT (ramfs).
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { convertToQcow2 } from "../../provider/builder/backends/direct/disk";
import { whichTool } from "../../provider/builder/run/host";
import { memoryLogger } from "../../provider/builder/run/log";

describe("qcow2 conversion (qemu-img)", function () {
  this.timeout(60_000);
  let work: string;
  const FALLBACK = /no O_DIRECT/;

  /** A raw disk with a recognisable block, converted into `dir` (with O_DIRECT if `directIo`); the log's lines. */
  async function convertInto(dir: string, directIo: boolean): Promise<string[]> {
    const raw = path.join(work, "disk.raw");
    execFileSync("qemu-img", ["create", "-q", "-f", "raw", raw, "16M"]);
    const fd = fs.openSync(raw, "r+");
    fs.writeSync(fd, Buffer.alloc(4096, "vm-images"), 0, 4096, 1 << 20);
    fs.closeSync(fd);
    const log = memoryLogger();
    const target = path.join(dir, "disk.qcow2");
    await convertToQcow2(raw, target, { image: "disk.qcow2", log, signal: new AbortController().signal }, directIo);
    execFileSync("qemu-img", ["check", "-q", target]);
    expect(execFileSync("qemu-img", ["compare", "-q", "-f", "raw", "-F", "qcow2", raw, target]).toString()).to.equal("");
    return log.lines;
  }

  before(function () {
    if (!whichTool("qemu-img")) this.skip();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-qcow2-"));
  });
  after(() => work && fs.rmSync(work, { recursive: true, force: true }));

  it("writes the same disk with O_DIRECT where the file system takes it, or through the page cache", async () => {
    expect((await convertInto(work, true)).join("\n")).to.include("-t none").and.not.to.match(FALLBACK);
    fs.rmSync(path.join(work, "disk.qcow2"));
    expect((await convertInto(work, false)).join("\n")).to.include("-t writeback").and.not.to.include("-t none");
  });

  it("writes it through the page cache where the file system refuses O_DIRECT (ramfs)", async function () {
    if (process.getuid?.() !== 0) this.skip();
    const ramfs = path.join(work, "ramfs");
    fs.mkdirSync(ramfs);
    execFileSync("mount", ["-t", "ramfs", "ramfs", ramfs]);
    try {
      const lines = await convertInto(ramfs, true);
      expect(lines.join("\n")).to.match(FALLBACK).and.to.include("-t writeback");
    } finally {
      execFileSync("umount", [ramfs]);
    }
  });
});
