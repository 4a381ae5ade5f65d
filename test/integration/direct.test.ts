// The direct backend with the real tools (mmdebstrap, chroot, mke2fs -d,
// extlinux, qemu-img): it boots, and it builds the same file systems as the
// guestfs backend for the same configuration.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { guestfsEnvironment } from "../../provider/builder/boot/accel";
import type { Backend } from "../../provider/builder/backends/backend";
import { directBackend } from "../../provider/builder/backends/direct";
import { guestfsBackend } from "../../provider/builder/backends/guestfs";
import { bootToLogin } from "../../provider/builder/boot/check";
import { contentDigest } from "../../provider/builder/image/digest";
import { buildImage, type ImageBuildRequest } from "../../provider/builder/image/safebuild";
import { cacheDir } from "../../provider/builder/cache/dirs";
import { memoryLogger } from "../../provider/builder/run/log";
import { type ImageConfigInput, parseImageConfig } from "../../provider/model/config";
import { writeActionFixtures } from "../support/fixtures";
import { initramfsPair } from "../support/initramfs";
import { imageTree, treeDiff, VOLATILE } from "../support/tree";


describe("integration: direct backend with the real tools", function () {
  this.timeout(40 * 60_000);
  let work: string;
  let guestfsEnv: Record<string, string>;

  const build = (backend: Backend, dir: string, config: ImageConfigInput, parentPath?: string, bootCheck?: ImageBuildRequest["bootCheck"]) =>
    buildImage({
      dir, image: parseImageConfig(config), parentPath, suite: "bookworm", baseDir: work, mergeSteps: true,
      backend, guestfsEnv, cacheDir: cacheDir(), signal: new AbortController().signal, bootCheck,
    });

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-direct-"));
    writeActionFixtures(work);
    guestfsEnv = (await guestfsEnvironment(cacheDir(), memoryLogger(), new AbortController().signal)).env;
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("makes a bootable image without a VM that passes the boot check: from its own disk to a login prompt", async () => {
    const built = await build(directBackend, path.join(work, "boot"), {
      name: "boot.qcow2", size: "2G", actions: [{ type: "run-command", cmd: "passwd -d root" }],
    }, undefined, { accel: "tcg", timeoutMs: 8 * 60_000 });
    const info = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", built.path], { encoding: "utf8" }));
    expect(info["virtual-size"]).to.equal(2 * 2 ** 30);
    expect(built.timings.map((t) => t.step)).to.include("boot check");
    expect(fs.readFileSync(built.logFile, "utf8")).to.match(/boot\.qcow2 boot check \| login prompt after [\d.]+ s/);
    // Hashed last, after the boot check: the digest is of the file as it is named.
    expect(built.timings.map((t) => t.step).slice(-2)).to.deep.equal(["boot check", "digest"]);
    expect(built.digest).to.equal(`sha256:${execFileSync("sha256sum", [built.path], { encoding: "utf8" }).split(" ")[0]}`);
    // A boot check never writes to the disk it boots (a snapshot): booted again, the file keeps its bytes and identity.
    const before = fs.statSync(built.path);
    await bootToLogin({ image: built.path, format: "qcow2", accel: "tcg", timeoutMs: 8 * 60_000, signal: new AbortController().signal, log: memoryLogger(), label: "again" });
    expect(await contentDigest(built.path)).to.equal(built.digest);
    expect(fs.statSync(built.path).mtimeMs).to.equal(before.mtimeMs);
    // Written straight into the disk (as root), with the boot configuration
    // from the build's hook; the initramfs's build-time compression level
    // leaves no trace in the image.
    const tree = await imageTree(built.path);
    expect(fs.readFileSync(built.logFile, "utf8")).to.not.match(/bootstrapping into a directory/);
    expect(tree.get("/etc/fstab")).to.include({ type: "f", mode: "644", uid: "0" });
    expect(tree.get("/boot/extlinux/extlinux.conf")).to.include({ type: "f", mode: "644" });
    expect([...tree.keys()].filter((p) => p.startsWith("/boot/initrd.img-"))).to.have.length(1);
    expect([...tree.keys()].filter((p) => p.startsWith("/etc/initramfs-tools/conf.d/"))).to.deep.equal(["/etc/initramfs-tools/conf.d/fstype"]);
    expect([...tree.keys()].filter((p) => p.startsWith("/usr/share/initramfs-tools/conf-hooks.d/"))).to.deep.equal([]);
    // Its initramfs holds the same files as the one the image's own
    // mkinitramfs makes, without the build's compression level and shortcuts.
    const initramfs = await initramfsPair(built.path);
    expect(initramfs.built.length, "files in the initramfs").to.be.greaterThan(1000);
    expect(initramfs.built.filter((l) => l.startsWith("./usr/lib/modules/") && l.includes(".ko\t")).length, "kernel modules").to.be.greaterThan(500);
    expect(initramfs.built.filter((l) => /vm-images/.test(l))).to.deep.equal([]);
    expect(initramfs.built).to.deep.equal(initramfs.own);
    expect(initramfs.builtSums).to.equal(initramfs.ownSums);
  });

  it("builds the same file systems as the guestfs backend, root and derived", async () => {
    const root: ImageConfigInput = {
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
    const child: ImageConfigInput = {
      name: "child.qcow2", parent: "root.img", packages: ["tree"],
      actions: [{ type: "run-command", cmd: "echo derived > /root/derived" }],
    };
    const trees: Record<string, Map<string, import("../support/tree").Entry>> = {};
    for (const backend of [guestfsBackend, directBackend]) {
      const dir = path.join(work, backend.name);
      const r = await build(backend, dir, root);
      const c = await build(backend, dir, child, r.path);
      trees[`${backend.name} root`] = await imageTree(r.path);
      trees[`${backend.name} child`] = await imageTree(c.path);
    }
    for (const which of ["root", "child"]) {
      const a = trees[`guestfs ${which}`];
      const b = trees[`direct ${which}`];
      expect(a.size, `${which}: files in the guestfs image`).to.be.greaterThan(5000);
      expect(a.get("/root/bootstrap/net.sh")).to.include({ type: "f", mode: "755", uid: "0" });
      expect(a.get("/usr/local/bin/run.sh")).to.include({ type: "f", mode: "750", uid: "1000", gid: "1000" });
      expect(a.get("/etc/motd")).to.include({ mode: "640" });
      expect(a.get("/vmlinuz")).to.include({ type: "l", target: "/boot/vmlinuz-9.9.9-test" });
      expect(treeDiff(a, b, VOLATILE), `${which}: guestfs vs direct`).to.deep.equal([]);
    }
    expect(trees["direct child"].get("/usr/bin/tree")).to.include({ type: "f" });
    expect(trees["direct child"].has("/root/derived")).to.equal(true);
  });
});
