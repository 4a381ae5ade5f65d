// ssh host keys made at first boot, with the real tools: a bootable image
// with openssh-server (direct backend) holds no host keys, and each boot of
// it (the build's own boot check, then one more, both under TCG with
// -snapshot) shows sshd started with keys of its own.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { directBackend } from "../../provider/builder/backends/direct";
import { bootToLogin } from "../../provider/builder/boot/check";
import { buildImage } from "../../provider/builder/image/safebuild";
import { cacheDir } from "../../provider/builder/cache/dirs";
import { parseImageConfig } from "../../provider/model/config";
import { imageTree } from "../support/tree";

describe("integration: ssh host keys made at first boot", function () {
  this.timeout(40 * 60_000);
  let work: string;
  before(() => void (work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-sshkeys-"))));
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("bakes no host keys into the image, and two boots of it make different ones that sshd starts with", async () => {
    const built = await buildImage({
      dir: work, image: parseImageConfig({ name: "ssh.img", size: "2G", packages: ["openssh-server"] }),
      suite: "bookworm", baseDir: work, mergeSteps: true, backend: directBackend, guestfsEnv: {}, cacheDir: cacheDir(),
      signal: new AbortController().signal, bootCheck: { accel: "tcg", timeoutMs: 8 * 60_000 },
    });
    expect(built.timings.map((t) => t.step)).to.include("ssh host keys at first boot (sandbox)");
    const tree = await imageTree(built.path);
    expect(tree.get("/usr/sbin/sshd")).to.include({ type: "f" });
    expect([...tree.keys()].filter((p) => p.startsWith("/etc/ssh/ssh_host_")), "host keys in the image").to.deep.equal([]);
    expect(tree.get("/etc/systemd/system/vm-images-ssh-host-keys.service")).to.include({ type: "f", mode: "644", uid: "0" });
    expect(tree.get("/etc/systemd/system/ssh.service.wants/vm-images-ssh-host-keys.service"))
      .to.include({ type: "l", target: "/etc/systemd/system/vm-images-ssh-host-keys.service" });
    expect(tree.get("/etc/systemd/system/ssh.service.d/vm-images-host-keys.conf")).to.include({ type: "f", mode: "644" });

    // The first boot: the build's own boot check, which waited for sshd's keys.
    const log = fs.readFileSync(built.logFile, "utf8");
    const first = /ssh\.img boot check \| login prompt after [\d.]+ s; sshd started with host keys (.+)$/m.exec(log);
    expect(first, `the boot check's verdict in the log:\n${log.split("\n").filter((l) => /boot check|ssh host keys/.test(l)).slice(-40).join("\n")}`).to.not.equal(null);
    expect(log).to.match(/ssh\.img boot check \| .*ssh-keygen: generating new host keys: RSA ECDSA ED25519$/m);
    const firstKeys = first![1].split(", ");
    // The second boot, of the same file.
    const before = fs.statSync(built.path).mtimeMs;
    const second = await bootToLogin({ image: built.path, format: "raw", accel: "tcg", timeoutMs: 8 * 60_000, sshd: true });
    expect(second.console).to.match(/ssh-keygen: generating new host keys: RSA ECDSA ED25519/);
    expect(fs.statSync(built.path).mtimeMs, "the image is unchanged by its boots").to.equal(before);
    const sshdLines = (text: string) => text.split("\n").filter((l) => l.includes("sshd")).join("\n");
    for (const [keys, text] of [[firstKeys, log], [second.hostKeys, second.console]] as const) {
      expect(keys.map((k) => /\((\w+)\)$/.exec(k)?.[1]).sort(), sshdLines(text)).to.deep.equal(["ECDSA", "ED25519", "RSA"]);
    }
    const fingerprint = (k: string) => k.split(" ")[1];
    for (const k of second.hostKeys) expect(firstKeys.map(fingerprint), `${k}: the same key at both boots`).to.not.include(fingerprint(k));
  });
});
