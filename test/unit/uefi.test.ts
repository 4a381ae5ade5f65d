// UEFI-bootable images (arm64), without a build: the GPT's sfdisk script and
// fixed ids, GRUB's embedded configuration and fstab, where a disk's root
// file system is (an MBR partition, a GPT's Linux partition read from a disk
// head that sfdisk made, or the whole disk), and the boot check's
// qemu-system-aarch64 command line and time limit.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GPT_TYPES, guidText, readDiskHead, rootPartition } from "../../provider/builder/boot/layout";
import { AAVMF, bootCommand, DEFAULT_BOOT_TIMEOUT_MS, defaultBootTimeoutMs, FOREIGN_BOOT_TIMEOUT_MS, uefiBootCommand } from "../../provider/builder/boot/qemu";
import { ESP_BYTES, ESP_OFFSET, GRUB_MODULES, grubConfig, gptScript, UEFI_ROOT_OFFSET, uefiFstab, uefiRootBytes } from "../../provider/builder/boot/uefi";
import { systemEmulator } from "../../provider/model/arch";
import { fileSystemIds, gptIds } from "../../provider/model/reproducible";

const MIB = 2 ** 20;
const GUID = /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;

describe("UEFI-bootable layout", () => {
  it("gives an image fixed GPT ids, from its name, apart from its file system's", () => {
    const a = gptIds("arm64.qcow2");
    expect(gptIds("arm64.qcow2")).to.deep.equal(a);
    for (const g of [a.disk, a.esp, a.root]) expect(g).to.match(GUID);
    expect(new Set([a.disk, a.esp, a.root, fileSystemIds("arm64.qcow2").uuid.toUpperCase()]).size).to.equal(4);
    expect(a.espVolumeId).to.match(/^[0-9a-f]{8}$/);
    expect(gptIds("other.qcow2").disk).to.not.equal(a.disk);
  });

  it("writes the sfdisk script of a GPT: the ESP at 1 MiB (32 MiB), the root at 33 MiB to the disk's last MiB", () => {
    const ids = gptIds("arm64.qcow2");
    const script = gptScript(ids, 2048 * MIB);
    expect(script.split("\n")).to.deep.equal([
      "label: gpt",
      `label-id: ${ids.disk}`,
      "unit: sectors",
      `start=2048, size=65536, type=${GPT_TYPES.esp}, uuid=${ids.esp}, name="EFI system partition"`,
      `start=67584, size=${(2048 - 34) * 2048}, type=${GPT_TYPES.linux}, uuid=${ids.root}, name="root"`,
      "",
    ]);
    expect([ESP_OFFSET, ESP_BYTES, UEFI_ROOT_OFFSET]).to.deep.equal([MIB, 32 * MIB, 33 * MIB]);
    expect(uefiRootBytes(2048 * MIB)).to.equal((2048 - 34) * MIB);
    expect(() => gptScript(ids, 64 * MIB)).to.throw(/no room/);
  });

  it("boots the kernel and initrd links of the root file system found by its UUID, on the serial console; fstab names it too", () => {
    const uuid = fileSystemIds("arm64.qcow2").uuid;
    expect(grubConfig(uuid).split("\n")).to.deep.equal([
      `search --no-floppy --fs-uuid --set=root ${uuid}`,
      `linux /vmlinuz root=UUID=${uuid} rw console=ttyAMA0 net.ifnames=0`,
      "initrd /initrd.img",
      "boot",
      "",
    ]);
    expect(uefiFstab(uuid)).to.equal(`UUID=${uuid} / ext4 errors=remount-ro 0 1\n`);
    // What the configuration's commands need: GPT, ext4, search by UUID, the loader, gzip for Debian's arm64 vmlinuz.
    expect(GRUB_MODULES).to.include.members(["part_gpt", "ext2", "search", "search_fs_uuid", "linux", "gzio", "boot"]);
  });
});

describe("where a disk's root file system is", () => {
  /** A GPT disk head: protective MBR, header at LBA 1, `entries` at LBA 2 ([type, first LBA, last LBA]). */
  const gptHead = (entries: [string, number, number][]) => {
    const head = Buffer.alloc(34 * 512);
    head[446 + 4] = 0xee;
    head.writeUInt32LE(1, 446 + 8);
    head.writeUInt16BE(0x55aa, 510);
    head.write("EFI PART", 512, "latin1");
    head.writeBigUInt64LE(2n, 512 + 72);
    head.writeUInt32LE(128, 512 + 80);
    head.writeUInt32LE(128, 512 + 84);
    entries.forEach(([type, first, last], i) => {
      const at = 1024 + i * 128;
      const hex = type.replace(/-/g, "");
      const bytes = Buffer.from(hex, "hex");
      // Mixed-endian: the first three fields little-endian.
      Buffer.from(bytes.subarray(0, 4)).reverse().copy(head, at);
      Buffer.from(bytes.subarray(4, 6)).reverse().copy(head, at + 4);
      Buffer.from(bytes.subarray(6, 8)).reverse().copy(head, at + 6);
      bytes.subarray(8).copy(head, at + 8);
      head.writeBigUInt64LE(BigInt(first), at + 32);
      head.writeBigUInt64LE(BigInt(last), at + 40);
    });
    return head;
  };

  it("reads a GPT behind its protective MBR: the Linux partition, not the ESP", () => {
    const head = gptHead([[GPT_TYPES.esp, 2048, 67583], [GPT_TYPES.linux, 67584, 4_192_255]]);
    expect(guidText(head.subarray(1024, 1040))).to.equal(GPT_TYPES.esp);
    expect(rootPartition(head)).to.deep.equal({ table: "gpt", number: 2, offset: 67584 * 512, bytes: (4_192_255 - 67584 + 1) * 512 });
  });

  it("finds no root on a GPT without a Linux partition, or without its header", () => {
    expect(rootPartition(gptHead([[GPT_TYPES.esp, 2048, 67583]]))).to.equal(undefined);
    const noHeader = gptHead([[GPT_TYPES.linux, 67584, 100_000]]);
    noHeader.fill(0, 512, 520);
    expect(rootPartition(noHeader)).to.equal(undefined);
  });

  it("keeps an MBR's first partition, and a bare file system's 0", () => {
    const mbr = Buffer.alloc(512);
    mbr[446 + 4] = 0x83;
    mbr.writeUInt32LE(2048, 446 + 8);
    mbr.writeUInt16BE(0x55aa, 510);
    expect(rootPartition(mbr)).to.deep.equal({ table: "mbr", number: 1, offset: MIB });
    expect(rootPartition(Buffer.alloc(512))).to.equal(undefined);
  });

  it("reads the GPT that sfdisk makes from the script", function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vmi-gpt-"));
    try {
      const disk = path.join(dir, "disk.raw");
      fs.writeFileSync(disk, "");
      fs.truncateSync(disk, 200 * MIB);
      try {
        execFileSync("sfdisk", ["--quiet", "--no-reread", "--no-tell-kernel", disk], { input: gptScript(gptIds("a.raw"), 200 * MIB), stdio: ["pipe", "ignore", "pipe"] });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") this.skip();
        throw err;
      }
      expect(rootPartition(readDiskHead(disk))).to.deep.equal({ table: "gpt", number: 2, offset: 33 * MIB, bytes: uefiRootBytes(200 * MIB) });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("boot check of arm64 images", () => {
  it("boots them with qemu-system-aarch64, the virt machine, the max CPU, UEFI firmware and virtio-blk, under TCG", () => {
    expect(systemEmulator("arm64")).to.equal("qemu-system-aarch64");
    expect(systemEmulator("amd64")).to.equal("qemu-system-x86_64");
    const argv = uefiBootCommand("/i/a.qcow2", "qcow2", true);
    const after = (flag: string) => argv[argv.indexOf(flag) + 1];
    expect([after("-machine"), after("-cpu"), after("-accel"), after("-serial")]).to.deep.equal(["virt", "max,pauth-impdef=on", "tcg", "stdio"]);
    expect(argv).to.include.members([
      "-snapshot", "-nographic", "-nodefaults",
      `if=pflash,format=raw,unit=0,file=${AAVMF.code},readonly=on`,
      `if=pflash,format=raw,unit=1,file=${AAVMF.vars}`,
      "file=/i/a.qcow2,format=qcow2,if=none,id=disk0", "virtio-blk-pci,drive=disk0",
    ]);
    expect(argv.slice(argv.indexOf("-runas"))).to.deep.equal(["-runas", "nobody"]);
    expect(uefiBootCommand("/i/a.qcow2", "qcow2", false)).not.to.include("-runas");
    // amd64's is as it was: q35, the disk on AHCI.
    expect(bootCommand("/i/a.img", "raw", "kvm", true).slice(0, 2)).to.deep.equal(["-machine", "q35"]);
  });

  it("gives them their own time limit: TCG on another architecture is slower", () => {
    expect(defaultBootTimeoutMs("amd64")).to.equal(DEFAULT_BOOT_TIMEOUT_MS);
    expect(defaultBootTimeoutMs()).to.equal(DEFAULT_BOOT_TIMEOUT_MS);
    expect(defaultBootTimeoutMs("arm64")).to.equal(FOREIGN_BOOT_TIMEOUT_MS);
    expect(FOREIGN_BOOT_TIMEOUT_MS).to.be.greaterThan(DEFAULT_BOOT_TIMEOUT_MS);
  });
});
