// The guestfs backend with the real tools: mmdebstrap, guestfish,
// virt-customize, qemu-img, and qemu booting the result; and the direct
// backend building the same root and child to the same file systems (the
// guestfs builds are the slow half of that comparison: they are made once).
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { guestfsEnvironment } from "../../provider/builder/boot/accel";
import { directBackend } from "../../provider/builder/backends/direct";
import { guestfsBackend } from "../../provider/builder/backends/guestfs";
import { buildImage, type ImageBuildRequest } from "../../provider/builder/image/safebuild";
import { identityOf } from "../../provider/model/identity";
import { cacheDir } from "../../provider/builder/cache/dirs";
import { memoryLogger } from "../../provider/builder/run/log";
import { type ImageConfigInput, parseImageConfig } from "../../provider/model/config";
import { writeActionFixtures } from "../support/fixtures";
import { bootToLogin, guestfishRead } from "../support/guest";
import { imageTree, treeDiff, VOLATILE } from "../support/tree";
import { readSbom, sbomFileName } from "../../provider/model/sbom";

/** A root with a package and every action type. */
const ROOT: ImageConfigInput = {
  name: "root.img", bootable: false, size: "2G", packages: ["jq"],
  actions: [
    { type: "run-command", cmd: "passwd -d root" },
    { type: "mkdir", dir: "/etc/vmtest/sub" },
    { type: "upload", file: "env.sh", dest: "/etc/profile.d/env.sh" },
    { type: "chmod", permissions: "0700", file: "/etc/profile.d/env.sh" },
    { type: "append-line", file: "/etc/motd", line: "appended: line" },
    { type: "link", target: "/usr/bin/jq", link: "/usr/local/bin/jq-link" },
    { type: "copy-in", localPath: "bootstrap", remoteDir: "/root" },
    { type: "tar-in", tarFile: "extra.tar", remoteDir: "/opt" },
    { type: "set-hostname", hostname: "vm-images-test" },
    // An executable owned by a user, uploaded into a directory; a mode without its leading 0.
    { type: "upload", file: "bin/run.sh", dest: "/usr/local/bin" },
    { type: "chmod", permissions: "640", file: "/etc/motd" },
    { type: "install-kernel", kernelInstallDir: "kernel" },
  ],
};

/** A child with another package, a bigger disk, and the root's actions again (all but its password one) over their own results. */
const CHILD: ImageConfigInput = {
  name: "child.qcow2", parent: "root.img", size: "3G", packages: ["tree"],
  actions: [{ type: "run-command", cmd: "echo ran > /root/ran" }, ...ROOT.actions!.slice(1)],
};

describe("integration: guestfs backend with the real tools", function () {
  this.timeout(40 * 60_000);
  let work: string;
  let dir: string;
  let guestfsEnv: Record<string, string>;
  const lines: string[] = [];

  const build = (config: ImageConfigInput, extra: Partial<ImageBuildRequest> = {}) =>
    buildImage({
      dir, image: parseImageConfig(config), suite: "bookworm", baseDir: work, mergeSteps: true,
      backend: guestfsBackend, guestfsEnv, cacheDir: cacheDir(), signal: new AbortController().signal,
      echo: (l) => lines.push(l), ...extra,
    });

  const leftovers = () => fs.readdirSync(dir).filter((f) => /\.(building|work)-\d+$/.test(f));

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-guestfs-"));
    dir = path.join(work, "images");
    writeActionFixtures(work);
    guestfsEnv = (await guestfsEnvironment(cacheDir(), memoryLogger(), new AbortController().signal)).env;
  });

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("builds a root image from mmdebstrap with a package and its actions", async () => {
    const built = await build(ROOT);
    expect(built.format).to.equal("raw");
    expect(built.sizeBytes).to.equal(2 * 2 ** 30);
    const [shadow, osRelease] = await guestfishRead(built.path, [["grep", "^root:", "/etc/shadow"], ["cat", "/etc/os-release"]]);
    expect(shadow).to.match(/^root::/);
    expect(osRelease).to.include("bookworm");
    expect(fs.readFileSync(built.logFile, "utf8")).to.include("root.img mmdebstrap | ");
    expect(leftovers()).to.deep.equal([]);
  });

  it("derives an image with every action type, a package and a bigger disk", async () => {
    const built = await build(CHILD, { parentPath: path.join(dir, "root.img") });
    expect(built.format).to.equal("qcow2");
    const info = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", built.path], { encoding: "utf8" }));
    expect(info.format).to.equal("qcow2");
    expect(info["virtual-size"]).to.equal(3 * 2 ** 30);
    const out = await guestfishRead(built.path, [
      ["cat", "/root/ran"],
      ["cat", "/root/bootstrap/net.sh"],
      ["cat", "/etc/hostname"],
      ["is-dir", "/etc/vmtest/sub"],
      ["cat", "/etc/profile.d/env.sh"],
      ["stat", "/etc/profile.d/env.sh"],
      ["cat", "/etc/motd"],
      ["readlink", "/usr/local/bin/jq-link"],
      ["is-file", "/usr/bin/tree"],
      ["cat", "/boot/vmlinuz-9.9.9-test"],
      ["is-file", "/lib/modules/9.9.9-test/modules.dep"],
      ["readlink", "/vmlinuz"],
      ["cat", "/opt/extra/hello.txt"],
      ["statvfs", "/"],
      ["glob-expand", "/tmp/vm-images-*"],
    ]);
    expect(out[0]).to.equal("ran");
    expect(out[1]).to.equal("#!/bin/sh\nip link");
    expect(out[2]).to.equal("vm-images-test");
    expect(out[3]).to.equal("true");
    expect(out[4]).to.equal("export VM_IMAGES_TEST=1");
    expect(out[5]).to.match(/mode: 33216\b/); // 0100700
    expect(out[6].split("\n").pop()).to.equal("appended: line");
    expect(out[7]).to.equal("/usr/bin/jq");
    expect(out[8]).to.equal("true");
    expect(out[9]).to.equal("not really a kernel");
    expect(out[10]).to.equal("true");
    expect(out[11]).to.equal("/boot/vmlinuz-9.9.9-test");
    expect(out[12]).to.equal("from a tarball");
    const blocks = Number(/blocks: (\d+)/.exec(out[13])![1]);
    const bsize = Number(/bsize: (\d+)/.exec(out[13])![1]);
    expect(blocks * bsize).to.be.greaterThan(2.5 * 2 ** 30); // the file system grew with the disk
    expect(out[14]).to.equal(""); // tar-in's scratch upload is gone
    expect(leftovers()).to.deep.equal([]);
  });

  it("the direct backend builds the same file systems, root and derived", async () => {
    const direct = path.join(work, "direct");
    const root = await buildImage({
      dir: direct, image: parseImageConfig(ROOT), suite: "bookworm", baseDir: work, mergeSteps: true,
      backend: directBackend, guestfsEnv, cacheDir: cacheDir(), signal: new AbortController().signal,
    });
    const child = await buildImage({
      dir: direct, image: parseImageConfig(CHILD), parentPath: root.path, suite: "bookworm", baseDir: work, mergeSteps: true,
      backend: directBackend, guestfsEnv, cacheDir: cacheDir(), signal: new AbortController().signal,
    });
    for (const [which, file] of [["root", root.path], ["child", child.path]]) {
      const a = await imageTree(path.join(dir, path.basename(file)));
      const b = await imageTree(file);
      expect(a.size, `${which}: files in the guestfs image`).to.be.greaterThan(5000);
      expect(a.get("/root/bootstrap/net.sh")).to.include({ type: "f", mode: "755", uid: "0" });
      expect(a.get("/usr/local/bin/run.sh")).to.include({ type: "f", mode: "750", uid: "1000", gid: "1000" });
      expect(a.get("/vmlinuz")).to.include({ type: "l", target: "/boot/vmlinuz-9.9.9-test" });
      expect(treeDiff(a, b, VOLATILE), `${which}: guestfs vs direct`).to.deep.equal([]);
      // Both backends read the image's packages for its SBOM, and find the same ones.
      const packagesOf = (image: string) => readSbom(fs.readFileSync(sbomFileName(image), "utf8")).packages;
      const guestfsPackages = packagesOf(path.join(dir, path.basename(file)));
      expect(guestfsPackages.length, `${which}: packages in the guestfs image's SBOM`).to.be.greaterThan(80);
      expect(guestfsPackages, `${which}: SBOM packages, guestfs vs direct`).to.deep.equal(packagesOf(file));
      if (which === "child") {
        expect(b.get("/usr/bin/tree")).to.include({ type: "f" });
        expect(b.get("/root/ran")).to.include({ type: "f" });
        expect(b.get("/etc/profile.d/env.sh")).to.include({ mode: "700" });
      } else {
        expect(b.get("/etc/motd")).to.include({ mode: "640" });
      }
    }
  });

  it("keeps the previous image when a rebuild fails, and the partial one at .failed", async () => {
    const target = path.join(dir, "child.qcow2");
    const before = identityOf(target);
    let message = "";
    await build(
      { name: "child.qcow2", parent: "root.img", actions: [{ type: "run-command", cmd: "echo failing on purpose >&2; exit 3" }] },
      { parentPath: path.join(dir, "root.img") },
    ).catch((err: Error) => (message = err.message));
    expect(message).to.match(/image "child\.qcow2": build failed: "virt-customize .*" returned non-zero exit code/);
    expect(message).to.include(`kept at ${target}.failed`);
    expect(message).to.include(`the previous image ${target} is unchanged`);
    expect(message).to.include(`log: ${target}.log`);
    expect(identityOf(target)).to.deep.equal(before);
    expect(fs.existsSync(`${target}.failed`)).to.equal(true);
    expect(leftovers()).to.deep.equal([]);
  });

  it("makes a bootable image that boots from its own disk to a login prompt", async function () {
    const built = await build({ name: "boot.img", size: "2G", actions: [{ type: "run-command", cmd: "passwd -d root" }] });
    const console = await bootToLogin(built.path, "raw", 8 * 60_000, path.join(dir, "boot.console.log"));
    expect(console).to.match(/login:/);
  });
});
