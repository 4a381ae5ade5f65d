// Interrupting `pulumi up` mid-build leaves no tool process, no temp file and
// no half-written image behind.
import { expect } from "chai";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO, TestProject } from "./harness";

const PULUMI_JS = path.join(REPO, "scripts", "pulumi.js");

/** Command lines of running processes that mention `needle`. */
function processesMentioning(needle: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.includes(needle) && !l.includes("ps -eo"));
}

/** "PID command line" of each process working in `dir` or below it (the CLI, its plugins, the provider). */
function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      if (cwd !== dir && !cwd.startsWith(dir + "/")) continue;
      found.push(`${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim()}`);
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return found;
}

/** Wait until no process works in the project directory, then require it. */
async function expectNoProcessIn(dir: string): Promise<void> {
  await waitFor("the project's processes to end", () => processesIn(dir).length === 0, 30_000).catch(() => undefined);
  expect(processesIn(dir), "processes left working in the project directory").to.deep.equal([]);
}

/** libguestfs's socket directories (root's are always in /tmp; see guestfstemp.ts). */
const guestfsSocketDirs = () => fs.readdirSync("/tmp").filter((e) => /^libguestfs[A-Za-z0-9]{6}$/.test(e));

async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}

describe("e2e: interrupting pulumi up", function () {
  this.timeout(20 * 60_000);

  // SIGINT as a terminal's Ctrl-C sends it, to the whole foreground process
  // group; SIGTERM as a process manager sends it, to the one process it started.
  const cases = [
    { signal: "SIGINT", target: "process group", stage: "guestfish" },
    { signal: "SIGTERM", target: "wrapper", stage: "mmdebstrap" },
  ] as const;
  for (const { signal, target, stage } of cases) {
    it(`on ${signal} to the ${target} during ${stage}, leaves no process, temp file or image`, async () => {
      const project = await TestProject.create({
        program: `module.exports = require(${JSON.stringify(path.join(REPO, "dist", "index.js"))});\n`,
        files: {
          "images.json": JSON.stringify([{ name: "int.img", image_size: "2G", bootable: false, packages: [] }]),
        },
      });
      const dir = path.join(project.dir, "images");
      try {
        await project.setConfig("imagesFile", "images.json");
        await project.setConfig("dir", "images");
        await project.setConfig("backend", "guestfs");
        const socketDirs = guestfsSocketDirs();
        const up = spawn(process.execPath, [PULUMI_JS, "--cwd", project.dir, "--non-interactive", "up", "--yes", "--skip-preview", "--stack", project.stack], {
          env: { ...process.env, PULUMI_BACKEND_URL: `file://${path.join(project.dir, ".state")}`, PULUMI_CONFIG_PASSPHRASE: "e2e" },
          stdio: "ignore",
          detached: true, // its own process group, as a shell gives a foreground job
        });
        const send = () => (target === "process group" ? process.kill(-up.pid!, signal) : up.kill(signal));
        await waitFor(`${stage} to start`, () => processesMentioning(dir).some((p) => p.includes(stage)), 5 * 60_000);
        // As a user does: once, which asks the CLI to cancel, then again, which ends it.
        send();
        await new Promise((r) => setTimeout(r, 1000));
        send();
        expect(await exited(up)).not.to.equal(0);
        await waitFor("build processes to end", () => processesMentioning(dir).length === 0, 60_000);
        await expectNoProcessIn(project.dir);
        const left = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !f.endsWith(".log")) : [];
        expect(left, "files left in the images dir").to.deep.equal([]);
        expect(guestfsSocketDirs().filter((d) => !socketDirs.includes(d)), "libguestfs socket directories left in /tmp").to.deep.equal([]);
      } finally {
        await project.dispose();
      }
    });
  }
});

/** The dynamic provider process (node running the SDK's dynamic-provider host) of a project directory. */
function providerOf(projectDir: string): number | undefined {
  for (const line of processesMentioning("cmd/dynamic-provider")) {
    const pid = Number(line.trim().split(/\s+/)[0]);
    try {
      if (fs.readlinkSync(`/proc/${pid}/cwd`) === projectDir) return pid;
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

describe("e2e: killing pulumi up (direct)", function () {
  this.timeout(30 * 60_000);
  let project: TestProject;
  let dir: string;
  const forest = (basePackages: string[], childPackages: string[]) =>
    fs.writeFileSync(path.join(project.dir, "images.json"), JSON.stringify([
      { name: "base.img", image_size: "1G", bootable: false, packages: basePackages },
      { name: "child.img", parent: "base.img", packages: childPackages },
    ]));
  const snapshot = () => Object.fromEntries(["base.img", "child.img", "base.img.log", "child.img.log"].map((f) => {
    const st = fs.statSync(path.join(dir, f));
    return [f, `${st.ino}:${st.size}:${st.mtimeMs}`];
  }));
  const env = () => ({ ...process.env, PULUMI_BACKEND_URL: `file://${path.join(project.dir, ".state")}`, PULUMI_CONFIG_PASSPHRASE: "e2e" });

  before(async () => {
    project = await TestProject.create({ program: `module.exports = require(${JSON.stringify(path.join(REPO, "dist", "index.js"))});\n` });
    dir = path.join(project.dir, "images");
    forest([], ["tree"]);
    await project.setConfig("imagesFile", "images.json");
    await project.setConfig("dir", "images");
    await project.setConfig("backend", "direct");
    await project.up();
  });
  after(async () => project?.dispose());

  const cases = [
    { kill: "CLI", stage: "apt-get", edit: () => forest([], ["tree", "jq"]) },
    { kill: "provider", stage: "mmdebstrap", edit: () => forest(["jq"], ["tree", "jq"]) },
    { kill: "provider", stage: "apt-get", edit: () => forest([], ["tree", "bc"]) },
    { kill: "CLI", stage: "mmdebstrap", edit: () => forest(["bc"], ["tree"]) },
  ] as const;
  for (const { kill, stage, edit } of cases) {
    it(`SIGKILL of the ${kill} during ${stage}: no process, mount, loop device or temp file stays; images and logs unchanged`, async () => {
      const before = snapshot();
      const loops = execFileSync("losetup", ["-a"], { encoding: "utf8" });
      edit();
      const up = spawn(process.execPath, [PULUMI_JS, "--cwd", project.dir, "--non-interactive", "up", "--yes", "--skip-preview", "--stack", project.stack], {
        env: env(), stdio: "ignore", detached: true,
      });
      await waitFor(`${stage} to start`, () => processesMentioning(dir).some((p) => p.includes(stage)), 5 * 60_000);
      if (kill === "CLI") {
        // The CLI is the wrapper's child: kill the CLI itself, not the wrapper.
        const cli = processesMentioning(`--cwd ${project.dir}`).map((l) => Number(l.trim().split(/\s+/)[0]))
          .find((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0].endsWith("/pulumi"));
        expect(cli, "the pulumi CLI process").to.be.a("number");
        process.kill(cli!, "SIGKILL");
      } else {
        const provider = providerOf(project.dir);
        expect(provider, "the provider process").to.be.a("number");
        process.kill(provider!, "SIGKILL");
      }
      await exited(up);
      await waitFor("build processes to end", () => processesMentioning(dir).length === 0 && providerOf(project.dir) === undefined, 60_000);
      // The CLI's language host too, which a killed CLI leaves running.
      await expectNoProcessIn(project.dir);
      // A killed CLI leaves its stack locked, as every DIY backend does; `pulumi cancel`
      // frees it (first, so that a failure here does not lock out the next cases).
      if (kill === "CLI") await project.must("cancel", "--stack", project.stack, "--yes");
      // A killed build's mount namespace is torn down by the kernel after its
      // last process: the file system's dirty pages are written back and the
      // loop device detaches itself (autoclear) a moment later, so give it that
      // moment, then require both gone.
      const mounted = () => fs.readFileSync("/proc/self/mounts", "utf8");
      const attached = () => execFileSync("losetup", ["-a"], { encoding: "utf8" });
      await waitFor("the killed build's mount and loop device to go", () => !mounted().includes(dir) && attached() === loops, 60_000).catch(() => undefined);
      expect(mounted()).not.to.include(dir);
      expect(attached()).to.equal(loops);
      expect(snapshot()).to.deep.equal(before);
      // The next up finishes the job, and sweeps what the killed build left.
      await project.up();
      const left = fs.readdirSync(dir).filter((f) => f.startsWith("."));
      expect(left, "temp files in the images dir").to.deep.equal([]);
    });
  }
});
