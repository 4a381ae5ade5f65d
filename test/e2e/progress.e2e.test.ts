// What a user sees during `npm start` on the seed's forest (the dev stack,
// two images, built by the direct backend), through the real CLI: progress
// as ephemeral messages on each image's own row, a short output without tool
// lines, a summary table, a boot check of the bootable root image; every
// tool line with vm-images:verbose, and apt's progress in a terminal's
// cadence; and a boot-breaking action that fails the boot check and leaves
// the previous image as it was.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { type RunResult, TestProject } from "./harness";

interface Diagnostic {
  urn?: string;
  message: string;
  severity: string;
  ephemeral?: boolean;
}

interface EngineEvent {
  diagnosticEvent?: Diagnostic;
}

const readEvents = (file: string): EngineEvent[] =>
  fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as EngineEvent);

/** The engine's info messages (statuses and lines that stay). */
const diagnostics = (events: EngineEvent[]): Diagnostic[] =>
  events.map((e) => e.diagnosticEvent).filter((d): d is Diagnostic => d !== undefined && d.severity === "info");

/** Lines a tool printed, as the verbose output shows them: "<image> <tool> | <text>". */
const TOOL_LINE = /^.*\b(base\.img|k8s\.qcow2) (mmdebstrap|apt-get|qemu-img|mke2fs|run-command|boot check) \| /m;

const imageUrn = (name: string) => `urn:pulumi:dev::vm-images::vm-images:index:ImageForest$pulumi-nodejs:dynamic/vm-images:Image::${name}`;

describe("e2e: what npm start shows, on the seed's forest", function () {
  this.timeout(40 * 60_000);
  let project: TestProject;
  let start: RunResult;
  let events: EngineEvent[];
  let images: string;

  const seedFile = () => path.join(project.dir, "examples", "seed", "images.json");
  const identity = (file: string) => {
    const st = fs.statSync(file);
    return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  };

  before(async () => {
    // --event-log needs PULUMI_DEBUG_COMMANDS.
    project = await TestProject.fromRepo("dev", { PULUMI_DEBUG_COMMANDS: "true" });
    images = path.join(project.dir, "images", "dev");
    const eventLog = path.join(project.dir, "events.jsonl");
    start = await project.script("dist/cli/start.js", "--event-log", eventLog);
    if (start.code !== 0) throw new Error(`npm start exited ${start.code}\n${start.stdout}\n${start.stderr}`);
    events = readEvents(eventLog);
  });
  after(async () => project?.dispose());

  it("prints under 60 lines: no tool lines, a line per finished step, and the summary table", () => {
    const output = `${start.stdout}${start.stderr}`;
    const lines = output.split("\n").filter((l) => l.trim() !== "");
    console.log(`      npm start printed ${lines.length} non-empty lines (${output.split("\n").length} in all)`);
    // A step of 30 s or more also shows a status ("... (0:30)"), and the CLI a line of dots before it: how many
    // depends on the machine's speed, not on what is printed (the next test checks the statuses), so they are
    // not counted here.
    const timed = output.split("\n").filter((l) => /\(\d+:\d\d\)\s*$/.test(l) || /^@ updating\.*\s*$/.test(l)).length;
    expect(output.split("\n").length - timed, output).to.be.lessThan(60);
    expect(output).not.to.match(TOOL_LINE);
    expect(output).to.match(/Image base\.img creat\w+ \(\d+s\) bootstrap root file system \(mmdebstrap\): \d+\.\d s/);
    expect(output).to.match(/Image base\.img creat\w+ \(\d+s\) boot check: \d+\.\d s/);
    expect(output).to.match(/Image k8s\.qcow2 creat\w+ \(\d+s\) install packages \(apt-get in sandbox\): \d+\.\d s/);
    expect(start.stdout).to.match(/^image +result +arch +build time +disk +file \(on disk\) +packages +digest$/m);
    expect(start.stdout).to.match(/^base\.img +built +amd64 +[\d.]+ s \(boot check [\d.]+ s\) +8\.0 GiB +8\.0 GiB \([\d.]+ [MG]iB\) +\d{3} +sha256:[0-9a-f]{12}$/m);
    expect(start.stdout).to.match(/^k8s\.qcow2 +built +amd64 +[\d.]+ s +8\.0 GiB +[\d.]+ [MG]iB.* \d{3} +sha256:[0-9a-f]{12}$/m);
  });

  it("sends each image's progress to its own row, as single-line ephemeral messages", () => {
    const diags = diagnostics(events);
    const base = diags.filter((d) => d.urn === imageUrn("base.img"));
    const k8s = diags.filter((d) => d.urn === imageUrn("k8s.qcow2"));
    // In a CI log a step shows its first status after 30 s (checked each
    // second): every step that ran 32 s or more shows one, none shows a
    // status before. Which steps run that long depends on the machine; the
    // verbose test below sees statuses in every case.
    let slowSteps = 0;
    for (const own of [base, k8s]) {
      const statuses = own.filter((d) => d.ephemeral).map((d) => d.message.trim());
      for (const m of statuses) expect(m).to.match(/^[a-z].* \((0:[3-5]\d|[1-9]\d*:\d\d)\)$/);
      for (const d of own.filter((d) => !d.ephemeral)) {
        const finished = /^(.+): (\d+\.\d) s$/.exec(d.message.trim());
        if (!finished || Number(finished[2]) < 32) continue;
        slowSteps++;
        expect(statuses.some((m) => m.startsWith(finished[1])), `a status of "${finished[1]}" (${finished[2]} s)`).to.equal(true);
      }
    }
    console.log(`      ${slowSteps} step(s) ran 32 s or more and showed a status`);
    // Every status is on an image's row, never on the stack's.
    expect(diags.filter((d) => d.ephemeral && !d.urn?.includes(":Image::"))).to.deep.equal([]);
    for (const [name, own] of [["base.img", base], ["k8s.qcow2", k8s]] as const) {
      expect(own.filter((d) => !d.ephemeral).length, `${name}: lines per finished step`).to.be.greaterThan(2);
      for (const d of own) expect(d.message.trim(), "single line").not.to.include("\n");
    }
    expect(k8s.filter((d) => !d.ephemeral).map((d) => d.message.trim())).to.satisfy((ms: string[]) =>
      ms.some((m) => /^install packages \(apt-get in sandbox\): \d+\.\d s$/.test(m)));
    expect(base.filter((d) => !d.ephemeral).map((d) => d.message.trim())).to.satisfy((ms: string[]) =>
      ms.some((m) => /^boot check: \d+\.\d s$/.test(m)));
  });

  it("boot-checked the bootable root image before keeping it, and only that one", async () => {
    const summary = (await project.outputs()).summary as Record<string, { result: string; bootCheckSeconds?: number }>;
    expect(summary["base.img"].result).to.equal("built");
    expect(summary["base.img"].bootCheckSeconds).to.be.greaterThan(0);
    console.log(`      boot check of base.img: ${summary["base.img"].bootCheckSeconds} s`);
    expect(summary["k8s.qcow2"].bootCheckSeconds).to.equal(undefined);
    expect(fs.readFileSync(path.join(images, "base.img.log"), "utf8")).to.match(/base\.img boot check \| login prompt after [\d.]+ s/);
  });

  it("verbose: turning it on changes nothing; a build then shows every tool line, and in a terminal's cadence live apt progress", async () => {
    await project.setConfig("verbose", "true");
    const noop = await project.run("preview", "--stack", "dev", "--expect-no-changes");
    expect(noop.code, noop.stdout).to.equal(0);
    const eventLog = path.join(project.dir, "events-k8s.jsonl");
    // The cadence of a terminal (a status about every 2 s), which the CLI shows in place.
    const r = await project.runWith({ VM_IMAGES_PROGRESS: "live" },
      "up", "--stack", "dev", "--yes", "--skip-preview", "--replace", imageUrn("k8s.qcow2"), "--event-log", eventLog);
    expect(r.code, r.stdout).to.equal(0);
    expect(r.stdout).to.match(/k8s\.qcow2 apt-get \| Setting up docker\.io/);
    const k8s = diagnostics(readEvents(eventLog)).filter((d) => d.urn === imageUrn("k8s.qcow2") && d.ephemeral).map((d) => d.message.trim());
    expect(k8s).to.satisfy((ms: string[]) => ms.some((m) => /^install packages \(apt-get in sandbox\): setting up \d+\/\d+ \(\d+:\d\d\)$/.test(m)));
    await project.setConfig("verbose", "false");
  });

  it("a boot-breaking action fails the boot check; the previous image stays and the new one is kept as .failed", async () => {
    const before = identity(path.join(images, "base.img"));
    const seed = JSON.parse(fs.readFileSync(seedFile(), "utf8"));
    // /sbin/init exits at once: the kernel panics ("Attempted to kill init!").
    seed[0].actions.push({ comment: "break booting", type: "run-command", op: { Cmd: "ln -sf /bin/false /sbin/init" } });
    fs.writeFileSync(seedFile(), JSON.stringify(seed, null, 2));
    const r = await project.run("up", "--stack", "dev", "--yes", "--skip-preview");
    expect(r.code).not.to.equal(0);
    expect(r.stdout).to.match(/image "base\.img": build failed: boot check failed: the guest cannot reach a login prompt \(Kernel panic - not syncing/);
    expect(r.stdout).to.include("last lines of the console:");
    expect(r.stdout).to.include(`the previous image ${path.join(images, "base.img")} is unchanged`);
    expect(identity(path.join(images, "base.img"))).to.deep.equal(before);
    expect(fs.existsSync(path.join(images, "base.img.failed"))).to.equal(true);
    const failedAfter = /base\.img boot check \| boot check failed after ([\d.]+) s/.exec(fs.readFileSync(path.join(images, "base.img.log"), "utf8"));
    expect(failedAfter, "the log says when the boot check failed").not.to.equal(null);
    console.log(`      the failing boot check gave up after ${failedAfter![1]} s`);
    const summary = (await project.outputs()).summary as Record<string, { result: string }>;
    expect(Object.keys(summary).sort()).to.deep.equal(["base.img", "k8s.qcow2"]);
  });
});
