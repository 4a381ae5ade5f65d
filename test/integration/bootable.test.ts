// A bootable image from the direct backend, with the real tools (mmdebstrap,
// chroot, extlinux, qemu-img, qemu under TCG): it passes the build's own boot
// check from its own disk, a boot never writes to it, its initramfs is the
// one the image would make itself, and it holds no ssh host keys: each boot
// (the boot check, then one more, both with -snapshot) shows sshd started
// with keys of its own.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { directBackend } from "../../provider/builder/backends/direct";
import { bootToLogin } from "../../provider/builder/boot/check";
import { contentDigest } from "../../provider/builder/image/digest";
import { buildImage } from "../../provider/builder/image/safebuild";
import { cacheDir } from "../../provider/builder/cache/dirs";
import { parseImageConfig } from "../../provider/model/config";
import { initramfsPair } from "../support/initramfs";
import { imageTree } from "../support/tree";

describe("integration: a bootable image from the direct backend", function () {
  this.timeout(40 * 60_000);
  let work: string;
  before(() => void (work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-bootable-"))));
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("passes the boot check from its own disk, holds the initramfs it would make itself, bakes no ssh host keys, and two boots make different ones that sshd starts with", async () => {
    const built = await buildImage({
      dir: work, image: parseImageConfig({ name: "ssh.qcow2", size: "2G", packages: ["openssh-server"], actions: [{ type: "run-command", cmd: "passwd -d root" }] }),
      suite: "bookworm", baseDir: work, mergeSteps: true, backend: directBackend, guestfsEnv: {}, cacheDir: cacheDir(),
      signal: new AbortController().signal, bootCheck: { accel: "tcg", timeoutMs: 8 * 60_000 },
    });
    const info = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", built.path], { encoding: "utf8" }));
    expect(info["virtual-size"]).to.equal(2 * 2 ** 30);
    const steps = built.timings.map((t) => t.step);
    expect(steps).to.include("ssh host keys at first boot, installed packages (sandbox)");
    // Hashed last, after the boot check: the digest is of the file as it is named.
    expect(steps.slice(-2)).to.deep.equal(["boot check", "digest"]);
    expect(built.digest).to.equal(`sha256:${execFileSync("sha256sum", [built.path], { encoding: "utf8" }).split(" ")[0]}`);

    // Written straight into the disk (as root), with the boot configuration
    // from the build's hook; the initramfs's build-time compression level
    // leaves no trace in the image.
    const log = fs.readFileSync(built.logFile, "utf8");
    expect(log).to.not.match(/bootstrapping into a directory/);
    const tree = await imageTree(built.path);
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

    // No host keys in the image; a unit makes them at first boot.
    expect(tree.get("/usr/sbin/sshd")).to.include({ type: "f" });
    expect([...tree.keys()].filter((p) => p.startsWith("/etc/ssh/ssh_host_")), "host keys in the image").to.deep.equal([]);
    expect(tree.get("/etc/systemd/system/vm-images-ssh-host-keys.service")).to.include({ type: "f", mode: "644", uid: "0" });
    expect(tree.get("/etc/systemd/system/ssh.service.wants/vm-images-ssh-host-keys.service"))
      .to.include({ type: "l", target: "/etc/systemd/system/vm-images-ssh-host-keys.service" });
    expect(tree.get("/etc/systemd/system/ssh.service.d/vm-images-host-keys.conf")).to.include({ type: "f", mode: "644" });

    // The first boot: the build's own boot check, which waited for sshd's keys.
    const first = /ssh\.qcow2 boot check \| login prompt after [\d.]+ s; sshd started with host keys (.+)$/m.exec(log);
    expect(first, `the boot check's verdict in the log:\n${log.split("\n").filter((l) => /boot check|ssh host keys/.test(l)).slice(-40).join("\n")}`).to.not.equal(null);
    expect(log).to.match(/ssh\.qcow2 boot check \| .*ssh-keygen: generating new host keys: RSA ECDSA ED25519$/m);
    const firstKeys = first![1].split(", ");
    // The second boot, of the same file: a boot never writes to the disk it
    // boots (a snapshot), so the file keeps its bytes and identity.
    const before = fs.statSync(built.path).mtimeMs;
    const second = await bootToLogin({ image: built.path, format: "qcow2", accel: "tcg", timeoutMs: 8 * 60_000, sshd: true });
    expect(second.console).to.match(/ssh-keygen: generating new host keys: RSA ECDSA ED25519/);
    expect(fs.statSync(built.path).mtimeMs, "the image is unchanged by its boots").to.equal(before);
    expect(await contentDigest(built.path)).to.equal(built.digest);
    const sshdLines = (text: string) => text.split("\n").filter((l) => l.includes("sshd")).join("\n");
    for (const [keys, text] of [[firstKeys, log], [second.hostKeys, second.console]] as const) {
      expect(keys.map((k) => /\((\w+)\)$/.exec(k)?.[1]).sort(), sshdLines(text)).to.deep.equal(["ECDSA", "ED25519", "RSA"]);
    }
    const fingerprint = (k: string) => k.split(" ")[1];
    for (const k of second.hostKeys) expect(firstKeys.map(fingerprint), `${k}: the same key at both boots`).to.not.include(fingerprint(k));
  });
});
