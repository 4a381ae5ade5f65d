// A bootable arm64 image from the direct backend, with the real tools
// (mmdebstrap through qemu-user, the image's own grub-mkimage in the
// sandbox, mtools, qemu-system-aarch64 under TCG with Debian's UEFI
// firmware): its disk is a GPT with an EFI system partition holding GRUB at
// the removable-media path, it passes the build's own boot check (a login
// prompt), and a derived qcow2 child of it grows with its root still in the
// GPT's root partition, the backup GPT moved to its new end.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { directBackend } from "../../provider/builder/backends/direct";
import { GPT_TYPES, readDiskHead, rootPartition } from "../../provider/builder/boot/layout";
import { ESP_BYTES, ESP_OFFSET, UEFI_ROOT_OFFSET } from "../../provider/builder/boot/uefi";
import { cacheDir } from "../../provider/builder/cache/dirs";
import { buildImage } from "../../provider/builder/image/safebuild";
import { parseImageConfig } from "../../provider/model/config";
import { fileSystemIds, gptIds } from "../../provider/model/reproducible";

const GIB = 2 ** 30;

/** The image as a raw file in `dir`. */
function raw(image: string, dir: string): string {
  const out = path.join(dir, `${path.basename(image)}.raw`);
  execFileSync("qemu-img", ["convert", "-O", "raw", image, out]);
  return out;
}

/** sfdisk's JSON dump of a disk's partition table. */
const table = (disk: string) => JSON.parse(execFileSync("sfdisk", ["--json", disk], { encoding: "utf8" })).partitiontable;

describe("integration: a bootable arm64 image (UEFI) from the direct backend", function () {
  this.timeout(60 * 60_000);
  let work: string;
  before(() => void (work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-arm64boot-"))));
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("is a GPT disk with GRUB on its ESP, boots under qemu-system-aarch64 (TCG) to a login prompt, and its derived child grows", async () => {
    const started = Date.now();
    const built = await buildImage({
      dir: work, image: parseImageConfig({ name: "arm64.qcow2", size: "2G", packages: [], actions: [{ type: "run-command", cmd: "passwd -d root" }] }),
      arch: "arm64", suite: "bookworm", baseDir: work, mergeSteps: true, backend: directBackend, guestfsEnv: {}, cacheDir: cacheDir(),
      signal: new AbortController().signal, bootCheck: { accel: "tcg", timeoutMs: 20 * 60_000 },
    });
    const steps = built.timings.map((t) => t.step);
    expect(steps.slice(-2)).to.deep.equal(["boot check", "digest"]);
    const log = fs.readFileSync(built.logFile, "utf8");
    const login = /arm64\.qcow2 boot check \| login prompt after ([\d.]+) s/m.exec(log);
    expect(login, `the boot check's verdict in the log:\n${log.split("\n").filter((l) => /boot check/.test(l)).slice(-40).join("\n")}`).to.not.equal(null);
    expect(log).to.match(/arm64\.qcow2 boot check \| .*(Linux version \S+-arm64|Booting Linux)/m);
    const bootSeconds = built.timings.find((t) => t.step === "boot check")!.seconds;
    console.log(`      arm64 build ${((Date.now() - started) / 1000).toFixed(0)} s; boot check ${bootSeconds.toFixed(1)} s (login prompt after ${login![1]} s)`);

    // The disk: a GPT with fixed GUIDs, the ESP at 1 MiB, the root at 33 MiB to the disk's last MiB.
    const disk = raw(built.path, work);
    const ids = gptIds("arm64.qcow2");
    const pt = table(disk);
    expect(pt.label).to.equal("gpt");
    expect(pt.id).to.equal(ids.disk);
    expect(pt.partitions.map((p: { start: number; size: number; type: string; uuid: string }) => [p.start * 512, p.size * 512, p.type, p.uuid])).to.deep.equal([
      [ESP_OFFSET, ESP_BYTES, GPT_TYPES.esp, ids.esp],
      [UEFI_ROOT_OFFSET, 2 * GIB - UEFI_ROOT_OFFSET - 2 ** 20, GPT_TYPES.linux, ids.root],
    ]);
    expect(rootPartition(readDiskHead(disk))).to.deep.equal({ table: "gpt", number: 2, offset: UEFI_ROOT_OFFSET, bytes: 2 * GIB - UEFI_ROOT_OFFSET - 2 ** 20 });
    // The ESP: GRUB at the removable-media path, read without a mount.
    const esp = execFileSync("mdir", ["-b", "-i", `${disk}@@${ESP_OFFSET}`, "::/EFI/BOOT"], { encoding: "utf8", env: { ...process.env, MTOOLS_SKIP_CHECK: "1" } });
    expect(esp).to.match(/BOOTAA64\.EFI/i);
    // The root file system: the UUID its fstab and GRUB's configuration name.
    const uuid = fileSystemIds("arm64.qcow2").uuid;
    expect(execFileSync("blkid", ["-p", "-O", String(UEFI_ROOT_OFFSET), "-s", "UUID", "-o", "value", disk], { encoding: "utf8" }).trim()).to.equal(uuid);
    const fstab = execFileSync("debugfs", ["-R", "cat /etc/fstab", `${disk}?offset=${UEFI_ROOT_OFFSET}`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    expect(fstab).to.equal(`UUID=${uuid} / ext4 errors=remount-ro 0 1\n`);
    fs.rmSync(disk);

    // A derived child, grown by 1 GiB: the backup GPT at its new end, the root partition and its file system to it.
    const child = await buildImage({
      dir: work, image: parseImageConfig({ name: "arm64-child.qcow2", parent: "arm64.qcow2", size: "+1G", actions: [{ type: "run-command", cmd: "echo child > /etc/child" }] }),
      parentPath: built.path, arch: "arm64", suite: "bookworm", baseDir: work, mergeSteps: true, backend: directBackend, guestfsEnv: {}, cacheDir: cacheDir(),
      signal: new AbortController().signal,
    });
    const childDisk = raw(child.path, work);
    expect(fs.statSync(childDisk).size).to.equal(3 * GIB);
    execFileSync("sfdisk", ["--verify", childDisk]);
    const root = rootPartition(readDiskHead(childDisk))!;
    expect(root).to.include({ table: "gpt", number: 2, offset: UEFI_ROOT_OFFSET });
    // To the last usable sector (sfdisk may align its end down to a MiB), before the backup GPT's 33 sectors.
    expect(root.offset + root.bytes!).to.be.at.most(3 * GIB - 33 * 512).and.greaterThan(3 * GIB - 2 * 2 ** 20);
    const header = execFileSync("dumpe2fs", ["-h", `${childDisk}?offset=${root.offset}`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const blocks = Number(/^Block count:\s*(\d+)/m.exec(header)![1]) * Number(/^Block size:\s*(\d+)/m.exec(header)![1]);
    expect(blocks, "the file system fills its grown partition").to.be.greaterThan(root.bytes! - 4 * 2 ** 20).and.at.most(root.bytes!);
    expect(execFileSync("debugfs", ["-R", "cat /etc/child", `${childDisk}?offset=${root.offset}`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })).to.equal("child\n");
    // The ESP is the parent's: the same boot loader finds the same root file system.
    expect(execFileSync("mdir", ["-b", "-i", `${childDisk}@@${ESP_OFFSET}`, "::/EFI/BOOT"], { encoding: "utf8", env: { ...process.env, MTOOLS_SKIP_CHECK: "1" } })).to.match(/BOOTAA64\.EFI/i);
  });
});
