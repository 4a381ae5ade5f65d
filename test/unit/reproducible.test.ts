import { expect } from "chai";
import { clockFreeCommands, createdEpoch, fileSystemIds, releaseEpoch, usedInodes } from "../../provider/model/reproducible";

describe("reproducible file systems (model)", () => {
  it("gives an image the same ids every time, and another image others", () => {
    const a = fileSystemIds("base.img");
    expect(fileSystemIds("base.img")).to.deep.equal(a);
    expect(a.uuid).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.hashSeed).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.diskId).to.match(/^[0-9a-f]{8}$/);
    const b = fileSystemIds("k8s.qcow2");
    expect(b.uuid).to.not.equal(a.uuid);
    expect(b.hashSeed).to.not.equal(a.hashSeed);
    expect(a.hashSeed).to.not.equal(a.uuid);
  });

  it("reads the source date from an InRelease's Date:, and none without one", () => {
    const inRelease = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOrigin: Debian\nSuite: stable\nDate: Sat, 11 Jul 2026 10:16:37 UTC\nValid-Until: x\n";
    expect(releaseEpoch(inRelease)).to.equal(Date.UTC(2026, 6, 11, 10, 16, 37) / 1000);
    expect(releaseEpoch("Origin: Debian\n")).to.equal(undefined);
    expect(releaseEpoch("Date: not a date\n")).to.equal(undefined);
  });

  it("reads a file system's creation time from dumpe2fs -h, printed in UTC", () => {
    expect(createdEpoch("Filesystem volume name:   <none>\nFilesystem created:       Sat Jul 11 10:16:37 2026\n")).to.equal(Date.UTC(2026, 6, 11, 10, 16, 37) / 1000);
    expect(createdEpoch("Filesystem volume name:   <none>\n")).to.equal(undefined);
  });

  it("lists the inodes in use from dumpe2fs's groups: all but the free ones and the reserved ones but the root's", () => {
    const dump = [
      "Inodes per group:         16",
      "Group 0: (Blocks 0-32767) csum 0xf962 [ITABLE_ZEROED]",
      "  Free inodes: 14-15",
      "Group 1: (Blocks 32768-65535)",
      "  Free inodes: 17, 19-32",
      "Group 2: (Blocks 65536-98303)",
      "  Free inodes: ",
    ].join("\n");
    expect(usedInodes(dump)).to.deep.equal([2, 11, 12, 13, 16, 18, ...Array.from({ length: 16 }, (_, i) => 33 + i)]);
    expect(() => usedInodes("Group 0:\n  Free inodes: 1-5\n")).to.throw(/inodes per group/);
    expect(() => usedInodes("Inodes per group: 8\nGroup 0:\n  nothing\n")).to.throw(/group 0/);
  });

  it("sets every inode's change time, the boot loader's files and the superblock's records at the source date", () => {
    const plain = clockFreeCommands([2, 11, 12], 1700000000, false).split("\n").filter(Boolean);
    expect(plain.slice(0, 3)).to.deep.equal(["sif <2> ctime @1700000000", "sif <11> ctime @1700000000", "sif <12> ctime @1700000000"]);
    expect(plain.filter((l) => l.includes("extlinux"))).to.deep.equal([]);
    expect(plain).to.include.members(["ssv mtime 0", "ssv wtime @1700000000", "ssv mnt_count 0", "ssv kbytes_written 0"]);
    const bootable = clockFreeCommands([2], 1700000000, true);
    for (const field of ["atime", "ctime", "mtime", "crtime"]) {
      expect(bootable).to.include(`sif /boot/extlinux/ldlinux.sys ${field} @1700000000\n`);
      expect(bootable).to.include(`sif /boot/extlinux/ldlinux.sys ${field}_extra 0\n`);
    }
    expect(bootable).to.include("sif /boot/extlinux/ldlinux.c32 generation 0\n");
    expect(bootable).to.include("sif /boot/extlinux version 0\n");
  });
});
