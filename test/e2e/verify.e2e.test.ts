// `npm run lvh -- images verify` with the real pulumi CLI, a real registry
// (Debian's docker-registry on 127.0.0.1), crane, the direct backend and
// guestfish: a stack builds and publishes a tiny root and a child; a
// registry without them is a clear error; verifying rebuilds each image
// and reproduces it (this needs reproducible builds); a published child
// with one file altered is a mismatch that names that file, with no
// temporary directory left behind; Ctrl-C during a rebuild leaves neither
// a temporary directory nor a mount.
import { expect } from "chai";
import { execFileSync, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GUESTFS_ENV } from "../support/guest";
import { publishLvhShaped, TestRegistry } from "../support/registry";
import { forest } from "../support/twostacks";
import { REPO, type RunResult, TestProject } from "./harness";

interface ImageOut {
  path: string;
  buildKey: string;
  published?: string;
}

const PROGRAM = `module.exports = require(${JSON.stringify(path.join(REPO, "dist", "index.js"))});\n`;

const sha256 = (file: string) => `sha256:${crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex")}`;
const mountsOfVerify = () => fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes("vm-images-verify-"));
const verifyTemps = (logs = false) => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("vm-images-verify-") && (logs || !f.endsWith(".log")));

describe("e2e: lvh images verify (rebuild a published image and compare)", function () {
  this.timeout(40 * 60_000);
  let reg: TestRegistry;
  let repo: string;
  let project: TestProject;
  let built: Record<string, ImageOut>;
  let tampered: string | undefined;
  const times: Record<string, number> = {};

  const verify = async (what: string, ...args: string[]): Promise<RunResult> => {
    const started = Date.now();
    const r = await project.script("dist/cli/lvh.js", "images", "verify", "--dir", project.dir, ...args);
    times[what] = (Date.now() - started) / 1000;
    // The tools' log a failed verification keeps.
    const kept = /every line of the tools it ran: (\S+)$/m.exec(r.stderr)?.[1];
    if (kept) fs.rmSync(kept, { force: true });
    return r;
  };

  before(async () => {
    reg = await TestRegistry.start();
    repo = `${reg.host}/team/images`;
    project = await TestProject.create({ program: PROGRAM, config: { imagesFile: "images.json", dir: "images", registry: repo, backend: "direct" } });
    fs.writeFileSync(path.join(project.dir, "images.json"), JSON.stringify(forest("one"), null, 2));
    const started = Date.now();
    await project.must("up", "--yes", "--skip-preview");
    times["up (build and publish)"] = (Date.now() - started) / 1000;
    built = (await project.outputs()).images as Record<string, ImageOut>;
    for (const img of Object.values(built)) expect(img.published).to.match(/@sha256:/);
  });
  after(async () => {
    console.log(`      times: ${JSON.stringify(times)}`);
    await project?.dispose();
    await reg?.dispose();
    if (tampered) fs.rmSync(tampered, { recursive: true, force: true });
  });

  it("a registry that does not hold the image: exit code 1, naming the registry and the build key", async () => {
    const other = `${reg.host}/nobody/images`;
    const r = await verify("not published", "--registry", other, "--image", "base.qcow2");
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stderr).to.include(`lvh: base.qcow2: not verified: base.qcow2: ${other} holds no image tagged ${built["base.qcow2"].buildKey}`);
    expect(r.stdout).not.to.match(/reproduced|mismatch/);
  });

  it("--stack: the images file, the settings and so the build keys are the stack's (--registry overrides its registry)", async () => {
    const other = `${reg.host}/nobody/images`;
    const run = (image: string) => project.script("dist/cli/lvh.js", "images", "verify", "--stack", "e2e", "--cwd", project.dir, "--registry", other, "--image", image);
    const r = await run("base.qcow2");
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stderr).to.include(`lvh: base.qcow2: not verified: base.qcow2: ${other} holds no image tagged ${built["base.qcow2"].buildKey}`);
    fs.rmSync(/every line of the tools it ran: (\S+)$/m.exec(r.stderr)![1]);
    // A derived image's build key takes its parent's content digest: where the parent is not published, that says so.
    const child = await run("child.qcow2");
    expect(child.code, child.stdout + child.stderr).to.equal(1);
    expect(child.stderr).to.include(`lvh: child.qcow2: not verified: base.qcow2: ${other} holds no image tagged ${built["base.qcow2"].buildKey}`);
    fs.rmSync(/every line of the tools it ran: (\S+)$/m.exec(child.stderr)![1]);
  });

  it("a bad command line: exit code 2 with the usage", async () => {
    const r = await verify("usage", "--registry", "no-host/images");
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include("--registry").and.to.include("usage: npm run lvh -- images verify");
  });

  // Needs byte-reproducible builds of the direct backend.
  it("every published image, rebuilt from the same images file, is reproduced: same sha256", async () => {
    const before = verifyTemps();
    const r = await verify("verify all (root rebuilt, child from the published root)", "--registry", repo);
    expect(verifyTemps()).to.deep.equal(before);
    for (const [name, img] of Object.entries(built)) {
      expect(r.stdout, r.stdout + r.stderr).to.include(`reproduced ${name} ${sha256(img.path)} (${img.published})`);
    }
    expect(r.code).to.equal(0);
  });

  it("a published child with one file altered: exit code 1, a mismatch that names that file", async () => {
    const child = built["child.qcow2"];
    tampered = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-tampered-"));
    const copy = path.join(tampered, "child.qcow2");
    fs.copyFileSync(child.path, copy);
    execFileSync("guestfish", ["-a", copy, "-m", "/dev/sda", "write", "/etc/child", "tampered\n"], { env: GUESTFS_ENV });
    publishLvhShaped(`${repo}:${child.buildKey}`, [copy]);
    const before = verifyTemps();
    // No local copy of the parent here: it is pulled by its build key.
    const record = path.join(project.dir, "images", ".base.qcow2.published");
    fs.renameSync(record, `${record}.away`);
    let r: RunResult;
    try {
      r = await verify("verify tampered child", "--registry", repo, "--image", "child.qcow2", "--max-diffs", "100000");
    } finally {
      fs.renameSync(`${record}.away`, record);
    }
    expect(r.stderr).to.match(new RegExp(`^base\\.qcow2 verify \\| published ${repo.replace(/\./g, "\\.")}@sha256:[0-9a-f]{64}: pulling it$`, "m"));
    expect(r.stderr).to.match(new RegExp(`^child\\.qcow2 verify \\| published ${repo.replace(/\./g, "\\.")}@sha256:[0-9a-f]{64}: pulling it$`, "m"));
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stdout).to.match(new RegExp(`^mismatch child\\.qcow2: the published ${repo.replace(/\./g, "\\.")}@sha256:[0-9a-f]{64} is ${sha256(copy)}, the rebuild is sha256:[0-9a-f]{64}$`, "m"));
    expect(r.stdout).to.match(/^ {2}\/etc\/child: content \(size 9 -> 4, sha256 [0-9a-f]{12} -> [0-9a-f]{12}\)/m);
    expect(verifyTemps()).to.deep.equal(before);
    // The local copy (the untampered file) was not taken for the published image, and is unchanged.
    expect(sha256(child.path)).not.to.equal(sha256(copy));
  });

  it("Ctrl-C (SIGINT) during a rebuild: exit code 130, no temporary directory, log or mount left", async () => {
    const before = verifyTemps(true);
    const child = spawn(process.execPath, [path.join(REPO, "dist/cli/lvh.js"), "images", "verify", "--dir", project.dir, "--registry", repo, "--image", "base.qcow2"], {
      cwd: project.dir, env: (() => {
        const env = project.environment();
        delete env.INIT_CWD;
        return env;
      })(), stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes("rebuilding base.qcow2")) resolve();
      });
      void exited.then(() => reject(new Error(`verify ended before its rebuild began:\n${stderr}`)));
    });
    // Into the rebuild (mmdebstrap in its sandbox).
    await new Promise((r) => setTimeout(r, 5000));
    const temps = verifyTemps().filter((t) => !before.includes(t));
    expect(temps, "the rebuild's temporary directory").to.have.length(1);
    child.kill("SIGINT");
    expect(await exited, stderr).to.equal(130);
    expect(stderr).to.include("received SIGINT");
    expect(verifyTemps(true)).to.deep.equal(before);
    expect(mountsOfVerify()).to.deep.equal([]);
  });
});
