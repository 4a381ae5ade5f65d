// The direct backend's sandbox with the real tools: an image whose actions
// attack the build host leaves the host as it was; the keyrings, new user
// namespaces and the deny list's other calls are refused; DNS works in an image
// whose resolv.conf is systemd-resolved's link; apt-get update starts from
// the package lists of earlier builds; what an image's apt downloaded joins
// the shared .deb cache only when a verified index lists it; a failed root
// build leaves the cache whole; nothing of the provider's environment is
// readable inside.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Backend } from "../../provider/builder/backends/backend";
import { directBackend } from "../../provider/builder/backends/direct";
import { guestfsBackend } from "../../provider/builder/backends/guestfs";
import { guestfsEnvironment } from "../../provider/builder/boot/accel";
import { memoryLogger } from "../../provider/builder/run/log";
import { aptListsCacheDir, cacheDir, debCacheDir } from "../../provider/builder/cache/dirs";
import { buildImage } from "../../provider/builder/image/safebuild";
import { type ImageConfigInput, parseImageConfig } from "../../provider/model/config";
import * as net from "node:net";
import { HOSTILE_PACKAGE, hostileRepository } from "../support/hostiledeb";

/** What a guest must never change on the build host. */
function hostState(): Record<string, string> {
  const sh = (cmd: string) => execFileSync("/bin/sh", ["-c", cmd], { encoding: "utf8" });
  return {
    hostname: sh("hostname"),
    domainname: fs.readFileSync("/proc/sys/kernel/domainname", "utf8"),
    ipForward: fs.readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8"),
    links: sh("ip -o link show | cut -d: -f2 | sort"),
    resolvConf: fs.readFileSync("/etc/resolv.conf", "utf8"),
    dev: fs.readdirSync("/dev").sort().join(" "),
    sys: fs.readdirSync("/sys").sort().join(" "),
    mounts: fs.readFileSync("/proc/self/mounts", "utf8").split("\n").map((l) => l.split(" ")[1]).sort().join(" "),
  };
}

/** Every file of the .deb cache with its size and modification time. */
function cacheListing(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith(".deb")).sort().map((f) => {
    const st = fs.statSync(path.join(dir, f));
    return `${f} ${st.size} ${st.mtimeMs}`;
  });
}

/** debugfs on a raw disk without a partition table. */
const debugfs = (image: string, request: string) =>
  execFileSync("debugfs", ["-R", request, image], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

const HOSTILE = [
  "hostname evil",
  "sysctl -w kernel.domainname=evil",
  "echo evil > /proc/sys/kernel/domainname",
  "echo 1 > /proc/sys/net/ipv4/ip_forward",
  "ip link add evil0 type dummy",
  "echo nameserver 6.6.6.6 > /etc/resolv.conf",
  "mkdir /dev/evil",
  "mkdir /sys/evil",
  "mount -t tmpfs tmpfs /mnt",
  "dd if=/dev/zero of=/dev/vda count=1",
  "kill -9 1",
];

describe("integration: the direct backend's sandbox", function () {
  this.timeout(30 * 60_000);
  let work: string;
  let hostileRoot: string;
  const build = (config: ImageConfigInput, parentPath?: string, mirror?: string, backend: Backend = directBackend, guestfsEnv: Record<string, string> = {}, arch?: string) =>
    buildImage({
      dir: path.join(work, "images"), image: parseImageConfig(config), parentPath, arch, suite: "bookworm", mirror, baseDir: work, mergeSteps: true,
      backend, guestfsEnv, cacheDir: path.join(work, "cache"), signal: new AbortController().signal, echo: () => {},
    });

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-sandbox-"));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  // Each attack is its own action; what it did inside is recorded in the image.
  const hostileActions = HOSTILE.map((cmd) => ({
    type: "run-command" as const,
    cmd: `if ${cmd} >/dev/null 2>&1; then r=succeeded; else r=failed; fi; echo "$r: ${cmd.replace(/"/g, "")}" >> /root/hostile.log`,
  }));

  /** The attacks of HOSTILE, each failed inside, as the image's log says. */
  function hostileActionsFailed(image: string) {
    const log = debugfs(image, "cat /root/hostile.log");
    for (const cmd of ["hostname evil", "sysctl -w kernel.domainname=evil", "ip link add evil0 type dummy", "mkdir /sys/evil",
      "mount -t tmpfs tmpfs /mnt", "echo 1 > /proc/sys/net/ipv4/ip_forward"]) {
      expect(log, cmd).to.include(`failed: ${cmd}`);
    }
    // The image's own resolv.conf (empty: nothing of the build host) is put back.
    expect(debugfs(image, "cat /etc/resolv.conf")).to.equal("");
    expect(debugfs(image, "ls -l /dev")).not.to.include("evil");
  }

  it("keeps a hostile image's actions off the build host", async () => {
    const before = hostState();
    const built = await build({ name: "hostile.img", bootable: false, size: "1G", packages: ["iproute2", "procps"], actions: hostileActions });
    hostileRoot = built.path;
    expect(hostState()).to.deep.equal(before);
    hostileActionsFailed(built.path);
  });

  it("refuses the keyrings, user namespaces and the calls of the deny list, and leaves the host's keyrings as they were", async () => {
    const keys = () => ({
      session: execFileSync("keyctl", ["show", "@s"], { encoding: "utf8" }),
      user: execFileSync("keyctl", ["show", "@u"], { encoding: "utf8" }),
      evil: fs.readFileSync("/proc/keys", "utf8").split("\n").filter((l) => l.includes("vm-images-evil")),
    });
    const before = keys();
    // A key of the host's root that /proc/keys would name inside, were it the host's (unlinked after the build).
    const visible = `vm-images-visible-${randomBytes(6).toString("hex")}`;
    const visibleId = execFileSync("keyctl", ["add", "user", visible, "x", "@u"], { encoding: "utf8" }).trim();
    // Each call's errno (0: it ran) in /root/calls, by the image's perl.
    const probe = `$| = 1; open(my $log, ">", "/root/calls") or die;
      sub try { my ($name, $nr, @args) = @_; $! = 0; my $r = syscall($nr, @args);
        if ($r == 0 && ($nr == 56)) { exit 0 } waitpid($r, 0) if $nr == 56 && $r > 0;
        print $log "$name ", ($r == -1 ? $! + 0 : 0), "\n" }
      try("add_key session", 248, "user", "vm-images-evil-s", "x", 1, -3);
      try("add_key user", 248, "user", "vm-images-evil-u", "x", 1, -4);
      try("keyctl", 250, 0, -4, 0);
      try("request_key", 249, "user", "vm-images-evil-r", 0, 0);
      # clone first: after a successful unshare, a nested user namespace would fail for want of a uid mapping.
      try("clone user", 56, 0x10000011, 0, 0, 0, 0);
      try("unshare user", 272, 0x10000000);
      try("clone3", 435, 0, 0);
      try("setns", 308, 0, 0);
      try("io_uring_setup", 425, 1, "\0" x 120);
      try("bpf", 321, 0, "\0" x 128, 128);
      try("perf_event_open", 298, pack("LLQQQQ", 1, 128, 0, 0, 0, 0x60) . "\0" x 88, 0, -1, -1, 0);
      try("userfaultfd", 323, 1);
      try("open_by_handle_at", 304, -100, pack("LL", 8, 1) . "\0" x 8, 0);
      try("x32 keyctl", 0x40000000 + 250, 0, -4, 0);
      # i386's keyctl(KEYCTL_GET_KEYRING_ID, @u) by int 0x80, from a static x86_64 program that exits with its errno.
      my $code = pack("C*", 0xb8, 0x20, 0x01, 0, 0, 0x31, 0xdb, 0xb9, 0xfc, 0xff, 0xff, 0xff, 0x31, 0xd2, 0xcd, 0x80,
        0xf7, 0xd8, 0x89, 0xc7, 0x79, 0x02, 0x31, 0xff, 0xb8, 0x3c, 0, 0, 0, 0x0f, 0x05);
      my $size = 64 + 56 + length($code);
      open(my $elf, ">", "/root/i386-keyctl") or die;
      print $elf pack("a4CCCCx8 vvV QQQ V vvvvvv", "\x7fELF", 2, 1, 1, 0, 2, 0x3e, 1, 0x400078, 64, 0, 0, 64, 56, 1, 0, 0, 0),
        pack("VV QQQ QQQ", 1, 5, 0, 0x400000, 0x400000, $size, $size, 0x1000), $code;
      close $elf; chmod 0755, "/root/i386-keyctl"; system("/root/i386-keyctl");
      print $log "i386 keyctl ", $? >> 8, "\n";`;
    fs.writeFileSync(path.join(work, "probe.pl"), probe);
    const child = await build({ name: "hostile-calls.img", parent: "hostile.img", packages: [], actions: [
      { type: "upload", file: "probe.pl", dest: "/root/probe.pl" },
      { type: "run-command", cmd: "perl /root/probe.pl" },
      { type: "run-command", cmd: "if unshare -U true 2>/root/unshare.err; then echo ran; else echo refused; fi > /root/unshare" },
      // Package scripts' own tools still work.
      { type: "run-command", cmd: "useradd -m -s /bin/sh probe && id probe > /root/probe-id" },
      { type: "run-command", cmd: "cat /proc/keys /proc/key-users > /root/proc-keys" },
    ] }, hostileRoot).finally(() => execFileSync("keyctl", ["unlink", visibleId, "@u"]));
    const calls = Object.fromEntries(debugfs(child.path, "cat /root/calls").trim().split("\n").map((l) => {
      const at = l.lastIndexOf(" ");
      return [l.slice(0, at), Number(l.slice(at + 1))];
    }));
    const EPERM = 1;
    const ENOSYS = 38;
    expect(calls).to.deep.equal({
      "add_key session": EPERM, "add_key user": EPERM, keyctl: EPERM, request_key: EPERM, "unshare user": EPERM, "clone user": EPERM,
      clone3: ENOSYS, setns: EPERM, io_uring_setup: EPERM, bpf: EPERM, perf_event_open: EPERM, userfaultfd: EPERM,
      open_by_handle_at: EPERM, "x32 keyctl": EPERM, "i386 keyctl": EPERM,
    });
    expect(debugfs(child.path, "cat /root/unshare")).to.equal("refused\n");
    expect(debugfs(child.path, "cat /root/probe-id")).to.match(/^uid=1000\(probe\)/);
    expect(keys()).to.deep.equal(before);
    // The sandbox's /proc/keys and /proc/key-users are empty: no description of the host's keys.
    expect(debugfs(child.path, "cat /root/proc-keys")).to.equal("");
  });

  it("gives DNS to an image whose resolv.conf is systemd-resolved's link, and keeps the link", async () => {
    const root = await build({ name: "resolved.img", bootable: false, size: "1G", packages: ["systemd-resolved"] });
    expect(debugfs(root.path, "stat /etc/resolv.conf")).to.match(/Fast link dest: "[^"]*stub-resolv\.conf"/);
    const child = await build({ name: "resolved-child.img", parent: "resolved.img", packages: ["jq"],
      actions: [{ type: "run-command", cmd: "getent hosts deb.debian.org > /root/resolved" }] }, root.path);
    expect(debugfs(child.path, "stat /usr/bin/jq")).to.include("Type: regular");
    expect(debugfs(child.path, "cat /root/resolved")).to.include("deb.debian.org");
    expect(debugfs(child.path, "stat /etc/resolv.conf")).to.match(/Fast link dest: "[^"]*stub-resolv\.conf"/);
  });

  it("starts apt-get update from the package lists of earlier builds, as the mirror's InRelease gives them", () => {
    const log = (name: string) => fs.readFileSync(path.join(work, "images", `${name}.log`), "utf8");
    // The first root build fetched the main index; the second had it from the lists cache.
    expect(log("hostile.img")).to.match(/Get:\d+ \S+ bookworm\/main amd64 Packages/);
    expect(log("resolved.img")).to.match(/mmdebstrap \| Fetched /).and.not.to.match(/bookworm\/main amd64 Packages/);
    // The child's apt fetched the translations (root builds fetch none), which then joined the cache.
    expect(log("resolved-child.img")).to.match(/apt-get \| Get:\d+ \S+ bookworm\/main Translation-en/);
    const lists = aptListsCacheDir(path.join(work, "cache"));
    const files = fs.readdirSync(lists).filter((f) => !f.startsWith("."));
    const release = files.find((f) => /_dists_bookworm_InRelease$/.test(f))!;
    expect(files).to.include.members([release.replace(/InRelease$/, "main_binary-amd64_Packages"), release.replace(/InRelease$/, "main_i18n_Translation-en")]);
    // Each index in the cache is the one its InRelease gives.
    for (const f of files.filter((name) => !name.endsWith("_InRelease"))) {
      const [head, rest] = f.split("_dists_");
      const [suite, ...parts] = rest.split("_");
      const text = fs.readFileSync(path.join(lists, `${head}_dists_${suite}_InRelease`), "utf8");
      const sha256 = text.slice(text.indexOf("\nSHA256:\n"));
      const digest = createHash("sha256").update(fs.readFileSync(path.join(lists, f))).digest("hex");
      expect(sha256, f).to.include(`${digest} `).and.to.match(new RegExp(`${digest} +\\d+ ${parts.join("/")}\n`));
    }
  });

  it("keeps in the .deb cache what the image's apt downloaded, and nothing that an index does not vouch for", async () => {
    const debs = debCacheDir(path.join(work, "cache"));
    // The child above downloaded jq (no root build has it): it joined the cache.
    expect(fs.readFileSync(path.join(work, "images", "resolved-child.img.log"), "utf8")).to.match(/downloaded package\(s\) joined the \.deb cache/);
    expect(fs.readdirSync(debs).filter((f) => /^jq_.*\.deb$/.test(f))).to.have.length(1);
    // An image whose apt, once dpkg is done, replaces each .deb it downloaded and adds one of its own.
    const forge = "for f in /run/vm-images/archives/*.deb; do [ -L $f ] || echo forged > $f; done; echo forged > /run/vm-images/archives/evil_1_amd64.deb";
    const root = await build({ name: "poison.img", bootable: false, size: "1G", packages: [],
      actions: [{ type: "run-command", cmd: `echo 'DPkg::Post-Invoke { "${forge}"; };' > /etc/apt/apt.conf.d/99forge` }] });
    await build({ name: "poison-child.img", parent: "poison.img", packages: ["tree"] }, root.path);
    const log = fs.readFileSync(path.join(work, "images", "poison-child.img.log"), "utf8");
    expect(log).to.match(/not kept in the \.deb cache \(no verified package index lists them as such\): evil_1_amd64\.deb, tree_\S+\.deb/);
    const cached = fs.readdirSync(debs);
    expect(cached.filter((f) => f.startsWith("tree_") || f.startsWith("evil_") || f.startsWith("."))).to.deep.equal([]);
    for (const f of cached.filter((name) => name.endsWith(".deb"))) expect(fs.readFileSync(path.join(debs, f)).subarray(0, 8).toString("latin1"), f).to.equal("!<arch>\n");
  });

  it("never follows a link the image planted: not its apt cache or lists, nor a mount point such as /run", async () => {
    // Host directories the image's links lead to, each empty or holding what must stay as it is.
    const host = (name: string) => {
      fs.mkdirSync(path.join(work, name));
      return path.join(work, name);
    };
    const [archives, lists, run] = [host("host-archives"), host("host-lists"), host("host-run")];
    const cachedLists = aptListsCacheDir(path.join(work, "cache"));
    // A verified index the lists cache has (a child fetched it above), moved to the host directory the
    // image's lists lead to: read there by the host, it would join the cache again.
    const translation = fs.readdirSync(cachedLists).find((f) => f.endsWith("_main_i18n_Translation-en"))!;
    fs.renameSync(path.join(cachedLists, translation), path.join(lists, translation));
    const listing = (dir: string) => fs.readdirSync(dir).map((f) => `${f} ${fs.lstatSync(path.join(dir, f)).mtimeMs}`);
    const before = { archives: listing(archives), lists: listing(lists), run: listing(run) };
    const noLanguages = path.join(work, "no-languages");
    fs.writeFileSync(noLanguages, 'Acquire::Languages "none";\n');
    // Each link's target exists in the image too, so the image's own apt works; /oldroot is the host's
    // root as bwrap sets up its mounts.
    const mkdirs = (dir: string) => dir.split("/").slice(1).map((_, i, parts) => `mkdir /${parts.slice(0, i + 1).join("/")}`);
    const plant = (name: string, requests: string[]) => {
      const file = path.join(work, name);
      execFileSync("cp", ["--sparse=always", path.join(work, "images", "hostile.img"), file]);
      fs.writeFileSync(`${file}.debugfs`, `${requests.join("\n")}\n`);
      execFileSync("debugfs", ["-w", "-f", `${file}.debugfs`, file], { stdio: "ignore" });
      return file;
    };
    const aptLinks = plant("apt-links.img", [
      ...mkdirs(`/oldroot${archives}`), ...mkdirs(lists),
      "link /var/cache/apt /var/cache/apt.orig", "unlink /var/cache/apt", `symlink /var/cache/apt /oldroot${archives}`,
      "link /var/lib/apt/lists /var/lib/apt/lists.orig", "unlink /var/lib/apt/lists", `symlink /var/lib/apt/lists ${lists}`,
      `write ${noLanguages} /etc/apt/apt.conf.d/99no-languages`,
    ]);
    const child = await build({ name: "apt-links-child.img", parent: "hostile.img", packages: ["tree"] }, aptLinks);
    expect(debugfs(child.path, "stat /usr/bin/tree")).to.include("Type: regular");
    const runLink = plant("run-link.img", ["link /run /run.orig", "unlink /run", `symlink /run /oldroot${run}`]);
    let message = "";
    await build({ name: "run-link-child.img", parent: "hostile.img", actions: [{ type: "run-command", cmd: "true" }] }, runLink)
      .catch((err: Error) => void (message = err.message));
    expect({ archives: listing(archives), lists: listing(lists), run: listing(run) }).to.deep.equal(before);
    expect(fs.readdirSync(cachedLists)).not.to.include(translation);
    expect(message).to.match(/image "run-link-child\.img".*the image's \/run is a symbolic link/s);
  });

  it("fails a root image with an unknown package clearly, and leaves every file of the .deb cache in place", async () => {
    // The cache of this test's builds, which the builds above filled.
    const debs = debCacheDir(path.join(work, "cache"));
    const before = cacheListing(debs);
    expect(before.length).to.be.greaterThan(50);
    let message = "";
    try {
      await build({ name: "unknown.img", bootable: false, size: "1G", packages: ["jq", "no-such-package-vm-images"] });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.match(/image "unknown\.img": build failed: .*mmdebstrap/s);
    expect(message).to.match(/no-such-package-vm-images/);
    expect(cacheListing(debs)).to.deep.equal(before);
    expect(fs.existsSync(path.join(work, "images", "unknown.img"))).to.equal(false);
  });

  it("lets no process in the sandbox read the provider's environment, and the network and apt still work", async () => {
    const secret = `marker-${randomBytes(12).toString("hex")}`;
    // Every environ file the guest's root can read (the sandbox's PID 1 first) is listed, and what in it
    // names the marker or any of our variables (the sandbox's own, such as the .deb cache's path).
    const probe = 'for f in /proc/1/environ /proc/self/environ /proc/[0-9]*/environ; do '
      + 'if tr "\\0" "\\n" 2>/dev/null < "$f" > /tmp/environ; then echo "$f" >> /root/environ-read; '
      + `grep -e VM_IMAGES_ -e ${secret} /tmp/environ >> /root/environ-hits || :; fi; done; `
      + 'touch /root/environ-hits; rm -f /tmp/environ';
    process.env.VM_IMAGES_TEST_SECRET = secret;
    let built;
    try {
      built = await build({ name: "environ.img", bootable: false, size: "1G", packages: [], actions: [
        { type: "run-command", cmd: probe },
        { type: "run-command", cmd: "getent hosts deb.debian.org > /root/resolved && apt-get -q -y update && apt-get -q -y install jq" },
      ] });
    } finally {
      delete process.env.VM_IMAGES_TEST_SECRET;
    }
    const read = debugfs(built.path, "cat /root/environ-read").split("\n");
    expect(read).to.include.members(["/proc/1/environ", "/proc/self/environ"]);
    expect(debugfs(built.path, "cat /root/environ-hits")).to.equal("");
    expect(debugfs(built.path, "cat /root/resolved")).to.include("deb.debian.org");
    expect(debugfs(built.path, "stat /usr/bin/jq")).to.include("Type: regular");
  });

  /** A root image with the hostile package, built by `backend`: its postinst's attempts on the build host, all failed. */
  async function hostilePackage(backend: Backend, name: string, guestfsEnv: Record<string, string> = {}, arch?: string, more: Pick<ImageConfigInput, "packages" | "actions"> = {}) {
    const marker = `hostile-${randomBytes(8).toString("hex")}`;
    // Listeners on the host's loopback and on its own address, counting connections.
    const seen: string[] = [];
    const listen = (host: string) => new Promise<net.Server>((resolve) => {
      const server = net.createServer((c) => { seen.push(host); c.destroy(); });
      server.listen(0, host, () => resolve(server));
    });
    const hostAddress = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal)?.address ?? "127.0.0.1";
    const loopback = await listen("127.0.0.1");
    const own = await listen(hostAddress);
    const port = (s: net.Server) => (s.address() as net.AddressInfo).port;
    const sources = hostileRepository(path.join(work, "hostile-deb"), { marker, loopbackPort: port(loopback), hostAddress, hostPort: port(own) });
    const onHost = () => [...new Set(["/tmp", os.tmpdir(), "/var/tmp"])].flatMap((d) => fs.readdirSync(d).filter((f) => f.includes(marker)));
    process.env.VM_IMAGES_TEST_SECRET = marker;
    let built;
    try {
      built = await build({ name, bootable: false, size: "1G", packages: [HOSTILE_PACKAGE, ...(more.packages ?? [])], actions: more.actions }, undefined, sources, backend, guestfsEnv, arch);
    } finally {
      delete process.env.VM_IMAGES_TEST_SECRET;
      loopback.close();
      own.close();
    }
    const log = debugfs(built.path, "cat /root/hostile-pkg.log");
    // The postinst ran, and each attempt is recorded.
    for (const what of ["proc1-root", "host-tmp", "loopback", "host-address"]) expect(log).to.match(new RegExp(`^${what}: `, "m"));
    expect(log).to.match(/^escaped-root: /m);
    expect(onHost(), "files the package made on the host").to.deep.equal([]);
    // The host's loopback is out of reach (slirp4netns), and its own address too (the network policy).
    expect(seen, "connections the package made to the build host").to.deep.equal([]);
    expect(log, "the host's loopback is unreachable").to.include("loopback: failed");
    expect(log, "the host's own address is refused").to.include("host-address: failed");
    expect(log, "environ files naming the marker or our variables").not.to.match(/environ: /);
    // Out of the chroot is the sandbox's view: no shadow file, nothing of the host's /etc.
    expect(log).not.to.include("escaped-shadow");
    return built;
  }

  it("runs a root image's package scripts in the sandbox: a hostile postinst reaches nothing of the build host", () => hostilePackage(directBackend, "hostile-pkg.img"));

  it("keeps a hostile arm64 image off the build host too: its package scripts and actions run through qemu-user, in the sandbox", async () => {
    const before = hostState();
    const built = await hostilePackage(directBackend, "hostile-arm64.img", {}, "arm64", { packages: ["iproute2", "procps"], actions: hostileActions });
    expect(hostState()).to.deep.equal(before);
    hostileActionsFailed(built.path);
    // The image's own binaries ran: an AArch64 shell (ELF e_machine 183) wrote the logs.
    const dash = execFileSync("debugfs", ["-R", "cat /usr/bin/dash", built.path], { stdio: ["ignore", "pipe", "ignore"] });
    expect(dash.readUInt16LE(18)).to.equal(183);
  });

  it("runs a root image's package scripts in the sandbox where loop mounts fail too (into a directory)", async () => {
    // A mount that refuses loop devices, as in some containers, found first on PATH.
    const shim = path.join(work, "mount-shim");
    fs.mkdirSync(shim, { recursive: true });
    fs.writeFileSync(path.join(shim, "mount"), `#!/bin/sh\ncase " $* " in *" -o loop,"*) echo "mount: no loop device" >&2; exit 32;; esac\nexec ${execFileSync("sh", ["-c", "command -v mount"], { encoding: "utf8" }).trim()} "$@"\n`, { mode: 0o755 });
    const PATH = process.env.PATH;
    process.env.PATH = `${shim}:${PATH}`;
    try {
      const built = await hostilePackage(directBackend, "hostile-pkg-fallback.img");
      expect(fs.readFileSync(built.logFile, "utf8")).to.match(/no loop mount here; bootstrapping into a directory/);
    } finally {
      process.env.PATH = PATH;
    }
  });

  it("runs the guestfs backend's root image's package scripts in the sandbox too: a hostile postinst reaches nothing of the build host", async () => {
    const guestfsEnv = (await guestfsEnvironment(cacheDir(), memoryLogger(), new AbortController().signal)).env;
    await hostilePackage(guestfsBackend, "hostile-pkg-guestfs.img", guestfsEnv);
  });
});
