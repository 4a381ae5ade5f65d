// The sandbox's network policy with the real tools: children of one root
// image, built under `public`, `mirror` and `none`, try to reach listeners
// on the build host (its loopback, its own address, slirp4netns's resolver
// address) and in a network namespace this test makes (a private address, a
// link-local one and a TEST-NET-2 one standing for a public address), and
// record what answered. Nothing leaves this machine.
import { expect } from "chai";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { directBackend } from "../../provider/builder/backends/direct";
import { cacheDir } from "../../provider/builder/cache/dirs";
import { buildImage } from "../../provider/builder/image/safebuild";
import { type ImageConfigInput, parseImageConfig } from "../../provider/model/config";
import type { NetworkMode } from "../../provider/model/nethost";
import { hostAddress as ownAddress } from "../support/ports";

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"] });
const debugfs = (image: string, request: string) =>
  execFileSync("debugfs", ["-R", request, image], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

// The test's namespace: a /30 on a veth pair, and two more addresses routed to it.
// (Not 169.254.169.254 itself: the build host's own metadata service may be in use.)
const NS = `vmi-net-${process.pid}`;
const VETH = `vmin${process.pid % 100000}`;
const HOST_SIDE = "10.213.7.1";
const PRIVATE = "10.213.7.2";
const LINK_LOCAL = "169.254.169.253";
const PUBLIC = "198.51.100.7";

/** A server that writes `<name> <the address it was reached on>` and closes. */
const SERVER = "require('net').createServer((s) => s.end(process.argv[1] + ' ' + s.localAddress + '\\n')).listen(Number(process.argv[2]), '0.0.0.0')";

/** The guest's probe: `HOST:PORT reached <line>`, `HOST:PORT refused <error>` or `HOST:PORT timeout`, one line in /root/net.log. */
const PROBE = "p() { out=$(timeout 5 bash -c 'exec 3<>\"/dev/tcp/$1/$2\" && head -n1 <&3' sh \"$1\" \"$2\" 2>&1); "
  + "case $? in 0) r=\"reached $out\" ;; 124) r=timeout ;; *) r=\"refused ${out##*: }\" ;; esac; echo \"$1:$2 $r\" >> /root/net.log; }";

describe("integration: the sandbox's network policy", function () {
  this.timeout(30 * 60_000);
  let work: string;
  let rootPath: string;
  let port: number;
  let hostAddress: string;
  let hostServer: net.Server;
  let nsServer: ChildProcess | undefined;

  const build = (config: ImageConfigInput, network: NetworkMode, allowHosts: string[] = [], parentPath?: string) =>
    buildImage({
      dir: path.join(work, "images"), image: parseImageConfig(config), parentPath, suite: "bookworm", baseDir: work, mergeSteps: true,
      network, allowHosts, backend: directBackend, guestfsEnv: {}, cacheDir: cacheDir(), signal: new AbortController().signal, echo: () => {},
    });

  /** A child of the root whose actions are `more`'s, then a probe of every listener; returns its probes' results. */
  async function probed(name: string, network: NetworkMode, more: Partial<ImageConfigInput> = {}, allowHosts: string[] = []) {
    const targets = ["10.0.2.2", "127.0.0.1", hostAddress, "10.0.2.3", PRIVATE, LINK_LOCAL, PUBLIC];
    const cmd = `${PROBE}; ${targets.map((t) => `p ${t} ${port}`).join("; ")}`;
    const child = await build({ name, parent: "net-root.img", ...more, actions: [...(more.actions ?? []), { type: "run-command", cmd }] },
      network, allowHosts, rootPath);
    const log = debugfs(child.path, "cat /root/net.log");
    const results = Object.fromEntries(log.trim().split("\n").map((l) => [l.split(" ")[0].replace(`:${port}`, ""), l.split(" ").slice(1).join(" ")]));
    return { path: child.path, results };
  }

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-network-"));
    hostAddress = ownAddress();
    // One port for every listener: the host's (on all its addresses, loopback included) and the namespace's.
    hostServer = net.createServer((s) => s.end(`host ${s.localAddress}\n`));
    await new Promise<void>((resolve) => hostServer.listen(0, "0.0.0.0", resolve));
    port = (hostServer.address() as net.AddressInfo).port;
    ip("netns", "add", NS);
    ip("link", "add", VETH, "type", "veth", "peer", "name", `${VETH}p`);
    ip("link", "set", `${VETH}p`, "netns", NS);
    ip("addr", "add", `${HOST_SIDE}/30`, "dev", VETH);
    ip("link", "set", VETH, "up");
    for (const a of [`${PRIVATE}/30`, `${LINK_LOCAL}/32`, `${PUBLIC}/32`]) ip("-n", NS, "addr", "add", a, "dev", `${VETH}p`);
    ip("-n", NS, "link", "set", `${VETH}p`, "up");
    ip("-n", NS, "link", "set", "lo", "up");
    ip("-n", NS, "route", "add", "default", "via", HOST_SIDE);
    for (const a of [LINK_LOCAL, PUBLIC]) ip("route", "add", `${a}/32`, "via", PRIVATE);
    nsServer = spawn("ip", ["netns", "exec", NS, process.execPath, "-e", SERVER, "ns", String(port)], { stdio: "ignore" });
    // Reached from the host, each address answers before any sandbox tries.
    for (const a of [PRIVATE, LINK_LOCAL, PUBLIC]) {
      for (let i = 0; ; i++) {
        const line = await new Promise<string>((resolve) => {
          const s = net.connect(port, a, () => s.once("data", (d) => resolve(d.toString())));
          s.on("error", () => resolve(""));
        });
        if (line === `ns ${a}\n`) break;
        if (i > 50) throw new Error(`the test's listener on ${a} does not answer`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    rootPath = (await build({ name: "net-root.img", bootable: false, size: "1G", packages: [] }, "public")).path;
  });

  after(() => {
    nsServer?.kill();
    hostServer?.close();
    try {
      ip("netns", "del", NS);
    } catch { /* not made */ }
    try {
      ip("link", "del", VETH);
    } catch { /* gone with the namespace */ }
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** What every policy that has a network refuses at once: a TCP reset, never a hang. */
  function expectRefusedHostAndPrivate(results: Record<string, string>) {
    for (const target of ["10.0.2.2", hostAddress, "10.0.2.3", PRIVATE, LINK_LOCAL]) {
      expect(results[target], target).to.equal("refused Connection refused");
    }
    // The guest's own loopback is its own: nothing listens there.
    expect(results["127.0.0.1"]).to.equal("refused Connection refused");
  }

  it("public: reaches a public address and DNS, never the host, loopback, link-local or private ranges, whatever the guest's root does", async () => {
    // The guest's root tries to remove the policy first, with nftables of its own.
    const { path: image, results } = await probed("net-public.img", "public", {
      packages: ["nftables"],
      actions: [{ type: "run-command", cmd: "getent hosts deb.debian.org > /root/resolved; nft flush ruleset 2> /root/flush || echo failed >> /root/flush" }],
    });
    expect(debugfs(image, "cat /root/flush")).to.match(/Operation not permitted[^]*failed\n$/);
    expectRefusedHostAndPrivate(results);
    expect(results[PUBLIC]).to.equal(`reached ns ${PUBLIC}`);
    expect(debugfs(image, "cat /root/resolved")).to.include("deb.debian.org");
  });

  it("mirror: reaches the mirror (apt installs a package) and the allowed hosts, nothing else", async () => {
    const { path: image, results } = await probed("net-mirror.img", "mirror", {
      packages: ["jq"],
      actions: [{ type: "run-command", cmd: "getent hosts deb.debian.org > /root/resolved; apt-get -q -y update > /root/update 2>&1 || :" }],
    }, [PRIVATE]);
    for (const target of ["10.0.2.2", hostAddress, "10.0.2.3", LINK_LOCAL, PUBLIC]) expect(results[target], target).to.equal("refused Connection refused");
    // allowHosts lets a private address through, whatever the range.
    expect(results[PRIVATE]).to.equal(`reached ns ${PRIVATE}`);
    expect(debugfs(image, "stat /usr/bin/jq")).to.include("Type: regular");
    expect(debugfs(image, "cat /root/resolved")).to.include("deb.debian.org");
    const update = debugfs(image, "cat /root/update");
    expect(update).to.match(/^(Hit|Get):\d+ http:\/\/deb\.debian\.org\//m).and.not.to.match(/^(Err|W):/m);
  });

  it("none: no network but the sandbox's own loopback", async () => {
    const { path: image, results } = await probed("net-none.img", "none", {
      actions: [{ type: "run-command", cmd: "cat /proc/net/dev > /root/links; getent hosts deb.debian.org > /root/resolved || echo failed > /root/resolved" }],
    });
    for (const target of ["10.0.2.2", hostAddress, "10.0.2.3", PRIVATE, LINK_LOCAL, PUBLIC]) {
      expect(results[target], target).to.equal("refused Network is unreachable");
    }
    expect(results["127.0.0.1"]).to.equal("refused Connection refused");
    expect(debugfs(image, "cat /root/links").trim().split("\n").slice(2).map((l) => l.trim().split(":")[0])).to.deep.equal(["lo"]);
    expect(debugfs(image, "cat /root/resolved")).to.equal("failed\n");
  });

  it("fails an image whose allowHosts names a host the build host cannot resolve, naming the image and the field", async () => {
    let message = "";
    try {
      await build({ name: "net-unknown.img", parent: "net-root.img", actions: [{ type: "run-command", cmd: "true" }] },
        "public", ["no-such-host.invalid"], rootPath);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.match(/image "net-unknown\.img".*allowHosts: "no-such-host\.invalid" does not resolve on the build host/s);
  });
});
