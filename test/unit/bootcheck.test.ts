// The boot check's reading of a console, against a stand-in for qemu on
// PATH whose console depends on the image's name (the real boot is in
// test/integration/bootable.test.ts): a login prompt passes and qemu has
// ended when the check returns; a panic, silence, an exit or qemu's own
// error fail, each named. An image with sshd passes only once sshd has
// reported its host keys, after the login prompt (on its line, as a real
// console shows it) or before it.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BootCheckError, bootToLogin } from "../../provider/builder/boot/check";
import { bootCommand } from "../../provider/builder/boot/qemu";
import { memoryLogger } from "../../provider/builder/run/log";

const FAKE_QEMU = `#!/bin/sh
for a; do case $a in file=*) image=\${a#file=}; image=\${image%%,*};; esac; done
case $(basename "$image") in
  login*) printf 'Linux version 6.1.0\\r\\n\\033[0;32mWelcome to Debian GNU/Linux 12!\\033[0m\\r\\n\\r\\nbase login: ';;
  panic*) printf 'Kernel panic - not syncing: VFS: Unable to mount root fs\\n';;
  off*) printf 'reboot: Power down\\n'; exit 0;;
  sshd*) printf 'Debian GNU/Linux 12 base ttyS0\\r\\n\\r\\nbase login: '; sleep 0.5
    printf 'sshd: host key 256 SHA256:ZhKo3Mq5n0zrOj2Ye0e9mXxK6uVb8lq1sLQ3gR7mE0w root@base (ED25519)\\r\\n'
    sleep 0.3; printf 'sshd: host key 256 SHA256:G0aCMygcargOM0YTU15qYSevVT98aNa+hTD2EyZKRJ8 root@base (ECDSA)\\r\\nsshd: started with 2 host keys\\r\\n';;
  sshfail*) printf '\\033[0;1;31mFAILED\\033[0m] Failed to start ssh.service - OpenBSD Secure Shell server.\\r\\n';;
  broken*) echo "qemu-system-x86_64: -drive file=$image: Could not open" >&2; exit 1;;
  uefishell*) printf 'BdsDxe: starting Boot0001 "EFI Internal Shell"\r\n\\033[1m\\033[33m\\033[40mShell> \\033[0m';;
  grubrescue*) printf 'error: no such device: 0c0ffee0.\r\nerror: you need to load the kernel first.\r\n\r\ngrub rescue> ';;
  uefilogin*) case $0 in *aarch64) printf 'Debian GNU/Linux 12 debian ttyAMA0\r\n\r\ndebian login: ';; esac;;
esac
while :; do sleep 1; done
`;

/** Whether some process's command line contains `marker` (zombies aside). */
const stillRunning = (marker: string) => execFileSync("ps", ["-eo", "stat=,args="], { encoding: "utf8" }).split("\n")
  .some((l) => l.includes(marker) && !l.includes("ps -eo") && !l.trim().startsWith("Z"));

describe("boot check (a stand-in qemu)", () => {
  let dir: string;
  let savedPath: string | undefined;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vmi-bootcheck-"));
    fs.writeFileSync(path.join(dir, "qemu-system-x86_64"), FAKE_QEMU, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "qemu-system-aarch64"), FAKE_QEMU, { mode: 0o755 });
    savedPath = process.env.PATH;
    process.env.PATH = `${dir}${path.delimiter}${savedPath ?? ""}`;
  });
  after(() => {
    process.env.PATH = savedPath;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const image = (name: string) => path.join(dir, `${name}-${process.pid}`);
  const check = (name: string, timeoutMs = 60_000, log = memoryLogger()) =>
    bootToLogin({ image: image(name), format: "raw", accel: "tcg", timeoutMs, log, label: "base.img boot check" });
  const failure = (p: Promise<unknown>) => p.then(() => expect.fail("passed"), (e: unknown) => e as BootCheckError);

  it("passes at a login prompt that ends without a newline, and qemu has ended when it returns", async () => {
    const log = memoryLogger();
    const lines: string[] = [];
    const r = await bootToLogin({ image: image("login"), format: "raw", accel: "tcg", timeoutMs: 60_000, log, label: "b", onLine: (l) => lines.push(l) });
    expect(r.console).to.equal("Linux version 6.1.0\nWelcome to Debian GNU/Linux 12!\n\nbase login: ");
    expect(lines).to.deep.equal(["Linux version 6.1.0", "Welcome to Debian GNU/Linux 12!"]);
    expect(stillRunning(image("login")), "qemu is left running").to.equal(false);
    expect(log.lines.at(-1)).to.match(/^b \| login prompt after \d+\.\d s$/);
  });

  it("fails on a kernel panic, quoting the console", async () => {
    const err = await failure(check("panic"));
    expect(err).to.be.instanceOf(BootCheckError);
    expect(err.message).to.equal("boot check failed: the guest cannot reach a login prompt (Kernel panic - not syncing)\n"
      + "  last lines of the console:\n    Kernel panic - not syncing: VFS: Unable to mount root fs");
    expect(stillRunning(image("panic"))).to.equal(false);
  });

  it("fails at its time limit", async () => {
    const err = await failure(check("silent", 1_000));
    expect(err.message).to.match(/^boot check failed: no login prompt within 1 s\n/);
    expect(stillRunning(image("silent"))).to.equal(false);
  });

  it("fails when qemu ends before a login prompt", async () => {
    expect((await failure(check("off"))).message).to.match(/^boot check failed: qemu exited \(0\) before a login prompt\n/);
  });

  it("fails with qemu's own error when qemu fails", async () => {
    const err = await failure(check("broken"));
    expect(err.message).to.match(/^boot check failed: "qemu-system-x86_64 -machine q35 .*" returned non-zero exit code 1\n/);
    expect(err.message).to.include(`last lines of stderr:\n    qemu-system-x86_64: -drive file=${image("broken")}: Could not open`);
  });

  it("with sshd, waits past the login prompt for sshd's host keys, and returns them", async () => {
    const log = memoryLogger();
    const r = await bootToLogin({ image: image("sshd"), format: "raw", accel: "tcg", timeoutMs: 60_000, log, label: "b", sshd: true });
    expect(r.hostKeys).to.deep.equal([
      "256 SHA256:ZhKo3Mq5n0zrOj2Ye0e9mXxK6uVb8lq1sLQ3gR7mE0w root@base (ED25519)",
      "256 SHA256:G0aCMygcargOM0YTU15qYSevVT98aNa+hTD2EyZKRJ8 root@base (ECDSA)",
    ]);
    expect(log.lines.at(-1)).to.match(/^b \| login prompt after \d+\.\d s; sshd started with host keys 256 SHA256:ZhKo\S+ root@base \(ED25519\), 256 SHA256:G0aC\S+ root@base \(ECDSA\)$/);
    expect(stillRunning(image("sshd"))).to.equal(false);
    // Without sshd, the login prompt is enough, and no keys are asked for.
    expect((await check("sshd")).hostKeys).to.deep.equal([]);
  });

  it("with sshd, fails when a login prompt comes but sshd never reports host keys", async () => {
    const err = await failure(bootToLogin({ image: image("login"), format: "raw", accel: "tcg", timeoutMs: 1_000, sshd: true }));
    expect(err.message).to.match(/^boot check failed: a login prompt, but no ssh host keys from sshd \(the image has openssh-server; its keys are made at first boot\) within 1 s\n/);
    const silent = await failure(bootToLogin({ image: image("silent"), format: "raw", accel: "tcg", timeoutMs: 1_000, sshd: true }));
    expect(silent.message).to.match(/^boot check failed: no login prompt and no ssh host keys from sshd within 1 s\n/);
  });

  it("with sshd, fails at once when ssh.service fails to start", async () => {
    const err = await failure(bootToLogin({ image: image("sshfail"), format: "raw", accel: "tcg", timeoutMs: 60_000, sshd: true }));
    expect(err.message).to.equal("boot check failed: sshd did not start (Failed to start ssh.service - OpenBSD Secure Shell server.)\n"
      + "  last lines of the console:\n    FAILED] Failed to start ssh.service - OpenBSD Secure Shell server.");
    expect(stillRunning(image("sshfail"))).to.equal(false);
  });

  it("stops qemu when the build is interrupted", async () => {
    const abort = new AbortController();
    const checking = bootToLogin({ image: image("slow"), format: "raw", accel: "tcg", timeoutMs: 60_000, signal: abort.signal });
    while (!stillRunning(image("slow"))) await new Promise((r) => setTimeout(r, 20));
    abort.abort();
    expect((await failure(checking)).message).to.match(/^boot check failed: interrupted\n/);
    expect(stillRunning(image("slow"))).to.equal(false);
  });

  describe("of an arm64 image (a stand-in qemu-system-aarch64)", () => {
    const check = (name: string) => bootToLogin({ image: image(name), format: "qcow2", accel: "tcg", timeoutMs: 60_000, arch: "arm64" });

    it("passes at the login prompt of the emulator of its architecture", async () => {
      expect((await check("uefilogin")).console).to.match(/ttyAMA0\n\ndebian login: $/);
    });

    it("fails at once at the UEFI shell (nothing it could boot) and at GRUB's rescue shell, and qemu has ended", async () => {
      for (const [name, what] of [["uefishell", /\(Shell>\)/], ["grubrescue", /\((grub rescue>|you need to load the kernel first)\)/]] as const) {
        const started = Date.now();
        const err = await check(name).then(() => expect.fail("passed"), (e: unknown) => e as BootCheckError);
        expect(err.message).to.match(/^boot check failed: the guest cannot reach a login prompt /);
        expect(err.message.split("\n")[0]).to.match(what);
        expect(Date.now() - started, "failed at once").to.be.lessThan(30_000);
        expect(stillRunning(`${name}-${process.pid}`)).to.equal(false);
      }
    });
  });
});

describe("boot check's qemu command line", () => {
  const sandbox = (argv: string[]) => argv[argv.indexOf("-sandbox") + 1];
  it("runs qemu under its seccomp filter, and as nobody once it has opened its files when started as root", () => {
    const asRoot = bootCommand("/i/base.img", "raw", "kvm", true);
    expect(sandbox(asRoot)).to.equal("on,obsolete=deny,spawn=deny,resourcecontrol=deny");
    expect(asRoot.slice(asRoot.indexOf("-runas"))).to.deep.equal(["-runas", "nobody"]);
    // Not root: no user to change to, and no set*uid either.
    const notRoot = bootCommand("/i/base.img", "raw", "kvm", false);
    expect(sandbox(notRoot)).to.equal("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    expect(notRoot).not.to.include("-runas");
    // The default follows who we are.
    expect(bootCommand("/i/base.img", "raw", "tcg").includes("-runas")).to.equal(process.getuid?.() === 0);
  });

  it("puts the disk on AHCI, or on virtio-scsi for a kernel without AHCI", () => {
    expect(bootCommand("/i/a.qcow2", "qcow2", "tcg", true)).to.include("file=/i/a.qcow2,format=qcow2,if=ide");
    const virtio = bootCommand("/i/a.qcow2", "qcow2", "tcg", true, "virtio-scsi");
    expect(virtio).to.include.members(["virtio-scsi-pci,id=scsi0", "file=/i/a.qcow2,format=qcow2,if=none,id=disk0", "scsi-hd,drive=disk0,bus=scsi0.0"]);
    expect(virtio.join(" ")).not.to.include("if=ide");
  });
});
