// sh/bootstrap-disk.sh gives the disk file back the blocks of files its
// command wrote and removed, even when no journal commit came between the
// removal and the end of the command (as after mkinitramfs's temporary
// tree): a real ext4 disk, loop-mounted, as root. The command runs in the
// sandbox, on the view of the host that hostview.ts makes, and the disk
// gets the device nodes of mmdebstrap's root mode afterwards.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { whichTool } from "../../provider/builder/run/host";
import { hostScript } from "../../provider/builder/run/shell";
import { writeHostView } from "../../provider/builder/sandbox/hostview";

describe("bootstrap-disk.sh", function () {
  this.timeout(60_000);
  let work: string;

  before(function () {
    if (process.getuid?.() !== 0 || !whichTool("mke2fs") || !whichTool("fstrim") || !whichTool("bwrap") || !whichTool("slirp4netns")) this.skip();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-bootstrap-disk-"));
  });
  after(() => work && fs.rmSync(work, { recursive: true, force: true }));

  const allocatedMiB = (file: string) => (fs.statSync(file).blocks * 512) / 2 ** 20;

  it("trims what the command wrote and removed before unmounting", () => {
    const disk = path.join(work, "disk.raw");
    fs.writeFileSync(disk, "");
    fs.truncateSync(disk, 256 * 2 ** 20);
    execFileSync("mke2fs", ["-q", "-F", "-t", "ext4", disk]);
    const before = allocatedMiB(disk);
    const mnt = path.join(work, "mnt");
    fs.mkdirSync(mnt);
    // 64 MiB written and flushed (its blocks allocated and committed), then
    // removed and a small file kept: the removal is not committed when the
    // command ends.
    const command = "dd if=/dev/urandom of=\"$1/big\" bs=1M count=64 conv=fsync status=none && rm \"$1/big\" && echo kept > \"$1/kept\"";
    const view = writeHostView(path.join(work, "view"), { target: mnt, ro: [], rw: [] });
    execFileSync("unshare", ["--mount", "--propagation", "private", "--", "/bin/bash", hostScript("bootstrap-disk.sh"), disk, "0", mnt,
      path.join(work, "run"), "/bin/sh", "-c", command, "sh", mnt], { env: { PATH: process.env.PATH, VM_IMAGES_VIEW: view } });
    expect(allocatedMiB(disk) - before, "MiB the disk file grew by").to.be.below(16);
    const debugfs = (req: string) => execFileSync("debugfs", ["-R", req, disk], { stdio: ["ignore", "pipe", "ignore"] }).toString();
    expect(debugfs("cat /kept")).to.equal("kept\n");
    // The sandbox's device files (empty mount points) became the nodes mmdebstrap's root mode makes.
    const dev = debugfs("ls -l /dev");
    expect(dev).to.match(/40755 \(2\) .* \.\n/);
    expect(dev).to.match(/20666 \(3\) .* null\n/);
    expect(debugfs("stat /dev/null")).to.match(/major\/minor number: *01:03/);
    expect(dev).to.match(/120777 \(7\) .* fd\n/);
  });
});
