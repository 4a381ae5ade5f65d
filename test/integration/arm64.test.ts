// lvh's seed forest (examples/seed) for arm64 with the direct backend on an
// x86_64 build host, with the real tools: mmdebstrap for arm64, the package
// scripts, the actions and the child's apt through qemu-user (binfmt_misc),
// no VM. The images hold arm64 binaries and an arm64 dpkg, and the child has
// docker.io. base.img is a root, so bootable as lvh has it, under UEFI on
// arm64: a GPT with fixed ids, GRUB on its EFI system partition (made by the
// image's own grub-mkimage in the sandbox, written by mtools), the root by
// UUID; a child that grows the disk keeps that layout, the backup GPT moved
// to its new end. (The ci-arm64 stack's test boots such an image.)
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { directBackend } from "../../provider/builder/backends/direct";
import { buildImage } from "../../provider/builder/image/safebuild";
import { cacheDir } from "../../provider/builder/cache/dirs";
import { binfmtRuns } from "../../provider/builder/run/host";
import { loadLvhImagesFile } from "../../provider/model/imagesfile";
import { parseImageConfig } from "../../provider/model/config";
import { REPO_ROOT } from "../support/toolchain";
import { rawImage } from "../support/tree";
import { GPT_TYPES, readDiskHead, rootPartition } from "../../provider/builder/boot/layout";
import { ESP_BYTES, ESP_OFFSET, UEFI_ROOT_OFFSET } from "../../provider/builder/boot/uefi";
import { fileSystemIds, gptIds } from "../../provider/model/reproducible";

const GIB = 2 ** 30;

/** sfdisk's JSON dump of a disk's partition table. */
const table = (disk: string) => JSON.parse(execFileSync("sfdisk", ["--json", disk], { encoding: "utf8" })).partitiontable;

/** A directory of the ESP at 1 MiB of a raw disk, listed by mtools without a mount. */
const espDir = (disk: string, dir: string) =>
  execFileSync("mdir", ["-b", "-i", `${disk}@@${ESP_OFFSET}`, `::${dir}`], { encoding: "utf8", env: { ...process.env, MTOOLS_SKIP_CHECK: "1" } });

/** ELF e_machine of AArch64. */
const EM_AARCH64 = 183;

/**
 * Where a raw disk's root file system starts: its Linux partition (a
 * bootable arm64 image's GPT has an EFI system partition before it), or 0
 * without a partition table.
 */
function rootOffset(raw: string): number {
  let table: { partitiontable: { sectorsize?: number; partitions: { start: number; type: string }[] } };
  try {
    table = JSON.parse(execFileSync("sfdisk", ["--json", raw], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
  } catch {
    return 0;
  }
  const linux = table.partitiontable.partitions.find((p) => /^(83|0FC63DAF-8483-4772-8E79-3D69D8477DE4)$/i.test(p.type));
  expect(linux, `a Linux partition in ${raw}`).to.not.equal(undefined);
  return linux!.start * (table.partitiontable.sectorsize ?? 512);
}

/** The ELF machine of a file in a raw disk, read by debugfs. */
function elfMachine(raw: string, file: string, tmp: string): number {
  const out = path.join(tmp, `elf-${path.basename(file)}`);
  fs.rmSync(out, { force: true });
  execFileSync("debugfs", ["-R", `dump ${file} ${out}`, `${raw}?offset=${rootOffset(raw)}`], { stdio: "ignore" });
  const head = fs.readFileSync(out).subarray(0, 20);
  expect(head.subarray(0, 4).toString("latin1"), `${file} is an ELF file`).to.equal("\x7fELF");
  return head.readUInt16LE(18);
}

/** A command of the image run in a chroot of its file system, mounted read-only in a private mount namespace. */
function inImage(raw: string, mnt: string, ...argv: string[]): string {
  const script = 'mount -o ro,loop,noload,offset="$3" "$1" "$2" && dir=$2 && shift 3 && exec chroot "$dir" "$@"';
  return execFileSync("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", raw, mnt, String(rootOffset(raw)), ...argv],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

describe("integration: lvh's seed forest for arm64 on this build host", function () {
  this.timeout(40 * 60_000);
  let work: string;
  before(function () {
    // setup registers qemu-user-static's interpreters; a host without them has nothing to build arm64 with.
    expect(binfmtRuns("arm64"), "binfmt_misc runs arm64 binaries (npm run setup registers qemu-aarch64)").to.equal(true);
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-arm64-"));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("builds base.img and k8s.qcow2 for arm64: arm64 binaries, an arm64 dpkg, and docker.io in the child", async () => {
    const [base, k8s] = loadLvhImagesFile(path.join(REPO_ROOT, "examples", "seed", "images.json"));
    const dir = path.join(work, "images");
    const build = (image: typeof base, parentPath?: string) => buildImage({
      dir, image, parentPath, arch: "arm64", suite: "bookworm", baseDir: work, mergeSteps: true, backend: directBackend, guestfsEnv: {},
      cacheDir: cacheDir(), signal: new AbortController().signal,
    });
    const root = await build(base);
    const child = await build(k8s, root.path);
    const steps = (b: typeof root) => Object.fromEntries(b.timings.map((t) => [t.step, Number(t.seconds.toFixed(1))]));
    console.log(`      base.img (arm64): ${root.seconds.toFixed(1)} s ${JSON.stringify(steps(root))}`);
    console.log(`      k8s.qcow2 (arm64): ${child.seconds.toFixed(1)} s ${JSON.stringify(steps(child))}`);

    const mnt = path.join(work, "mnt");
    fs.mkdirSync(mnt);
    const childRaw = await rawImage(child.path, work);
    for (const [name, raw] of [["base.img", root.path], ["k8s.qcow2", childRaw]]) {
      expect(elfMachine(raw, "/usr/bin/bash", work), `${name}: /usr/bin/bash is an AArch64 ELF`).to.equal(EM_AARCH64);
      expect(inImage(raw, mnt, "dpkg", "--print-architecture").trim(), `${name}: dpkg --print-architecture`).to.equal("arm64");
    }
    expect(inImage(childRaw, mnt, "dpkg-query", "-W", "-f", "${db:Status-Status} ${Architecture}", "docker.io")).to.equal("installed arm64");
    expect(elfMachine(childRaw, "/usr/sbin/dockerd", work), "dockerd").to.equal(EM_AARCH64);
    // Not in the parent: the child's own apt installed it.
    expect(() => inImage(root.path, mnt, "dpkg-query", "-W", "docker.io")).to.throw();
    // binfmt_misc's F flag: the interpreter ran without being copied into the image.
    for (const raw of [root.path, childRaw]) {
      expect(inImage(raw, mnt, "find", "/usr", "-name", "qemu-*").trim()).to.equal("");
    }
    // The seed's action ran too (passwd -d root, through qemu-user).
    expect(inImage(root.path, mnt, "sh", "-c", "grep '^root:' /etc/shadow | cut -d: -f2")).to.equal("\n");

    // base.img's disk: a GPT with fixed GUIDs, the ESP at 1 MiB, the root at 33 MiB to the disk's last MiB.
    const ids = gptIds("base.img");
    const pt = table(root.path);
    expect(pt).to.include({ label: "gpt", id: ids.disk });
    expect(pt.partitions.map((p: { start: number; size: number; type: string; uuid: string }) => [p.start * 512, p.size * 512, p.type, p.uuid])).to.deep.equal([
      [ESP_OFFSET, ESP_BYTES, GPT_TYPES.esp, ids.esp],
      [UEFI_ROOT_OFFSET, 8 * GIB - UEFI_ROOT_OFFSET - 2 ** 20, GPT_TYPES.linux, ids.root],
    ]);
    expect(espDir(root.path, "/EFI/BOOT")).to.match(/BOOTAA64\.EFI/i);
    // The root file system: the UUID its fstab (and GRUB's configuration) name.
    const uuid = fileSystemIds("base.img").uuid;
    expect(execFileSync("blkid", ["-p", "-O", String(UEFI_ROOT_OFFSET), "-s", "UUID", "-o", "value", root.path], { encoding: "utf8" }).trim()).to.equal(uuid);
    expect(inImage(root.path, mnt, "cat", "/etc/fstab")).to.equal(`UUID=${uuid} / ext4 errors=remount-ro 0 1\n`);

    // A child that grows the disk by 1 GiB: the backup GPT at its new end, the root partition and its file system to it, the parent's ESP.
    const grown = await build(parseImageConfig({ name: "grown.qcow2", parent: "base.img", size: "+1G", actions: [{ type: "run-command", cmd: "echo child > /etc/child" }] }), root.path);
    fs.rmSync(childRaw);
    const grownRaw = await rawImage(grown.path, work);
    expect(fs.statSync(grownRaw).size).to.equal(9 * GIB);
    execFileSync("sfdisk", ["--verify", grownRaw]);
    const part = rootPartition(readDiskHead(grownRaw))!;
    expect(part).to.include({ table: "gpt", number: 2, offset: UEFI_ROOT_OFFSET });
    // To the last usable sector (sfdisk may align its end down to a MiB), before the backup GPT's 33 sectors.
    expect(part.offset + part.bytes!).to.be.at.most(9 * GIB - 33 * 512).and.greaterThan(9 * GIB - 2 * 2 ** 20);
    const header = execFileSync("dumpe2fs", ["-h", `${grownRaw}?offset=${part.offset}`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const bytes = Number(/^Block count:\s*(\d+)/m.exec(header)![1]) * Number(/^Block size:\s*(\d+)/m.exec(header)![1]);
    expect(bytes, "the file system fills its grown partition").to.be.greaterThan(part.bytes! - 4 * 2 ** 20).and.at.most(part.bytes!);
    expect(inImage(grownRaw, mnt, "cat", "/etc/child")).to.equal("child\n");
    expect(espDir(grownRaw, "/EFI/BOOT")).to.match(/BOOTAA64\.EFI/i);
  });
});
