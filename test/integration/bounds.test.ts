// The bounds of a build with the direct backend, with the real tools: from
// one root image, a child image each that forks without end, eats memory,
// fills /run or /dev/shm, writes a file over the file-size bound or runs past
// the time bound fails with its bound named; a sibling still builds after
// them; no build cgroup and no process of theirs is left, after an
// interrupted build either, and a killed provider's cgroups are removed.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { directBackend } from "../../provider/builder/backends/direct";
import { type BuiltImage, buildImage } from "../../provider/builder/image/safebuild";
import type { BoundSettings } from "../../provider/builder/sandbox/bounds";
import { type ImageConfigInput, parseImageConfig } from "../../provider/model/config";

/** Small bounds: each hostile child reaches its own quickly. */
const SMALL: BoundSettings = { buildMemory: "256M", buildTasks: 64, buildCpus: 1, buildTimeout: "90s", buildFileSize: "32M" };
/** In the command line of every process of the fork bomb. */
const MARKER = "vm-images-bounds-bomb";

/** This process's build cgroups, wherever the hierarchies are. */
function buildCgroups(): string[] {
  const out = execFileSync("find", ["/sys/fs/cgroup", "-maxdepth", "6", "-type", "d", "-name", `vm-images-${process.pid}-*`], { encoding: "utf8" });
  return out.split("\n").filter(Boolean);
}

/** Processes whose command line holds the marker. */
function bombProcesses(): string[] {
  return fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid).filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes(MARKER);
    } catch {
      return false;
    }
  });
}

describe("integration: the bounds of a build", function () {
  this.timeout(30 * 60_000);
  let work: string;
  let root: BuiltImage;
  /** Where the sibling's build cgroups were made (one per controller with cgroup v1). */
  let cgroupParents: string[] = [];
  /** Cgroups made to look left by a killed provider; removed after, should the build not have. */
  let stale: string[] = [];
  const build = (config: ImageConfigInput, parentPath?: string, bounds?: BoundSettings, signal = new AbortController().signal) =>
    buildImage({
      dir: path.join(work, "images"), image: parseImageConfig(config), parentPath, suite: "bookworm", baseDir: work, mergeSteps: true,
      backend: directBackend, guestfsEnv: {}, cacheDir: path.join(work, "cache"), signal, echo: () => {}, bounds,
    });
  /** A child of the root running `cmd` under the small bounds (some replaced): the message it fails with. */
  const failure = async (name: string, cmd: string, bounds: BoundSettings = {}) => {
    try {
      await build({ name, parent: "root.img", actions: [{ type: "run-command", cmd }] }, root.path, { ...SMALL, ...bounds });
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error(`image ${name} built: no bound was reached`);
  };

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-bounds-"));
    root = await build({ name: "root.img", bootable: false, size: "1G", packages: [] });
  });
  after(() => {
    for (const dir of stale.filter((d) => fs.existsSync(d))) fs.rmdirSync(dir);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("fails a fork bomb on the tasks bound", async () => {
    // Should the bound fail, timeout (which kills its whole process group) and the time bound end the bomb.
    // The bomb falls apart once its forks fail, and may end well: the bound reached fails the image all the same.
    const message = await failure("bomb.img", `timeout -s KILL 20 sh -c 'b() { b | b & }; b; wait' ${MARKER}`);
    expect(message).to.match(/image "bomb\.img": build failed: the build reached its tasks bound \(64, vm-images:buildTasks\): a fork failed/);
    expect(bombProcesses()).to.deep.equal([]);
  });

  it("fails a memory hog on the memory bound", async () => {
    const message = await failure("hog.img", `perl -e '$x = "x" x (512 * 1024 * 1024); print length $x'`);
    expect(message).to.match(/image "hog\.img": build failed: the build reached its memory bound \(256M, vm-images:buildMemory\): the kernel killed a process/);
  });

  it("fails a build that fills /run or /dev/shm on their size", async () => {
    for (const dir of ["/run", "/dev/shm"]) {
      // A file-size bound above the tmpfs size: the space runs out first.
      const message = await failure("filler.img", `dd if=/dev/zero of=${dir}/fill bs=1M count=100`, { buildFileSize: "1G" });
      expect(message, dir).to.match(/image "filler\.img": build failed: the sandbox's \/run or \/dev\/shm is full: each holds 67108864 bytes/);
    }
  });

  it("fails a file over the file-size bound", async () => {
    const message = await failure("big.img", "dd if=/dev/zero of=/root/big bs=1M count=40");
    expect(message).to.match(/image "big\.img": build failed: a file reached the build's file-size bound \(33554432 bytes, vm-images:buildFileSize\)/);
  });

  it("fails a build that runs past its time bound", async () => {
    const message = await failure("slow.img", "sleep 600", { buildTimeout: "20s" });
    expect(message).to.match(/image "slow\.img": build failed: the build reached its time bound \(20s, vm-images:buildTimeout\)/);
  });

  it("bounds a root image's mmdebstrap run too: its package scripts run in the build's cgroup, time and file size", async () => {
    let message = "";
    // The file-size bound as the default gives a root (its disk): apt writes package indexes bigger than the small one.
    await build({ name: "slow-root.img", bootable: false, size: "1G", packages: [] }, undefined, { ...SMALL, buildFileSize: "1G", buildTimeout: "3s" })
      .catch((err: Error) => void (message = err.message));
    expect(message).to.match(/image "slow-root\.img": build failed: the build reached its time bound \(3s, vm-images:buildTimeout\)/);
    const log = fs.readFileSync(path.join(work, "images", "slow-root.img.log"), "utf8");
    expect(log).to.match(/bounds: memory 256M, tasks 64, CPUs 1 \(cgroup v[12] /);
    // Under the small file-size bound, apt's store of the main package index (some 45 MB) is stopped.
    await build({ name: "small-root.img", bootable: false, size: "1G", packages: [] }, undefined, SMALL)
      .catch((err: Error) => void (message = err.message));
    expect(message).to.match(/image "small-root\.img": build failed: a file reached the build's file-size bound \(33554432 bytes, vm-images:buildFileSize\)/);
    expect(buildCgroups()).to.deep.equal([]);
  });

  it("still builds a sibling under the same bounds, and leaves no build cgroup behind", async () => {
    const built = await build({ name: "sibling.img", parent: "root.img", actions: [{ type: "run-command", cmd: "echo fine > /root/fine" }] },
      root.path, SMALL);
    expect(fs.existsSync(built.path)).to.equal(true);
    const log = fs.readFileSync(path.join(work, "images", "sibling.img.log"), "utf8");
    expect(log).to.match(/bounds: memory 256M, tasks 64, CPUs 1 \(cgroup v[12] /);
    expect(buildCgroups()).to.deep.equal([]);
    expect(bombProcesses()).to.deep.equal([]);
    cgroupParents = /\(cgroup v[12] ([^)]*)\)/.exec(log)![1].split(" ").map((dir) => path.dirname(dir));
  });

  it("removes the cgroup of an interrupted build, and those a killed provider left", async () => {
    // The cgroups of a provider that was killed: named after a process that has ended.
    const dead = execFileSync("sh", ["-c", "sh -c 'echo $$'"], { encoding: "utf8" }).trim();
    stale = cgroupParents.map((parent) => path.join(parent, `vm-images-${dead}-1`));
    for (const dir of stale) fs.mkdirSync(dir);
    const abort = new AbortController();
    const started = build({ name: "stopped.img", parent: "root.img", actions: [{ type: "run-command", cmd: "sleep 600" }] }, root.path, SMALL, abort.signal);
    const logFile = path.join(work, "images", ".stopped.img.log-" + process.pid);
    // Interrupted once the sleep runs in the sandbox, in the build's cgroup.
    while (!(fs.existsSync(logFile) && fs.readFileSync(logFile, "utf8").includes("$ unshare"))) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 2000));
    // The running build's cgroup: its bounds, and the sandbox's processes in it.
    const dirs = buildCgroups();
    expect(dirs).to.have.length(cgroupParents.length);
    const file = (name: string) => dirs.map((d) => path.join(d, name)).find((f) => fs.existsSync(f));
    const value = (name: string) => fs.readFileSync(file(name)!, "utf8").trim();
    if (file("memory.max")) {
      expect([value("memory.max"), value("pids.max"), value("cpu.max")]).to.deep.equal([String(256 << 20), "64", "100000 100000"]);
    } else {
      expect([value("memory.limit_in_bytes"), value("pids.max"), value("cpu.cfs_quota_us")]).to.deep.equal([String(256 << 20), "64", value("cpu.cfs_period_us")]);
    }
    const inside = value("cgroup.procs").split("\n").map((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " "));
    expect(inside).to.include("sleep 600 ");
    abort.abort();
    let message = "";
    await started.catch((err: Error) => (message = err.message));
    expect(message).to.match(/image "stopped\.img": build interrupted/);
    expect(buildCgroups()).to.deep.equal([]);
    expect(stale.filter((dir) => fs.existsSync(dir))).to.deep.equal([]);
  });
});
