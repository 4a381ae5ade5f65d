// `npm run bench`: forests built through the real Pulumi CLI by each backend,
// and by the real lvh when one is given, on this machine, in one run. Ratios,
// not absolute times, are what carry over.
//
// For each forest and backend of ours: a cold `up` (no image, and empty
// caches of built images and root disks), a no-op `up`, a child-only rebuild
// (the last image gets one more package), a root action-only rebuild (the
// first image's first run-command changes), and the revert of that edit;
// each with its time, each image's own build time and where its file came
// from, and the peak memory of the CLI's process tree. lvh builds each forest
// cold (`lvh images build --dir D --pkg-repo SUITE`). Last, the ci stack's
// forest cold with one build at a time and with two, and the ratios.
//
//   npm run bench                            every backend found, both forests
//   npm run bench -- --backends direct,lvh   some of them
//   npm run bench -- --cold-only guestfs     only the cold build with those
//   npm run bench -- --forests seed,ci       some forests (seed, bootable, and ci: one and two builds at a time)
//   npm run bench -- --forests kind          vm-images:layering flat against overlay (layering.ts; not in the default set)
//   npm run bench -- --forests kind --small  the same on a tiny forest, once each: a quick check that it runs
//   npm run bench -- --smoke                 the direct backend, a tiny forest (npm test runs this)
//   npm run bench -- --baseline REF          also the direct backend of commit REF, cold (baseline.ts)
//
// The direct backend's cold up runs with the user's downloaded packages and
// package lists (as on any machine that built before), three times with a
// fresh stack and built-image cache each, its ratio taken from the median
// (one run varies by a few seconds); and once with none ("empty package
// caches": everything downloaded, as lvh always does); a ratio for each.
//
// lvh: LVH=/path/to/lvh, else `lvh` on PATH. Our boot check (qemu, which lvh
// does not do) is reported on its own; the lvh ratios compare cold times
// without it, that is, the same work.
//
// Every measured up, lvh's too, starts once what the one before wrote has
// reached the disk (sync), so none pays for another's writeback.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { guestfsEnvironment } from "../provider/builder/boot/accel";
import { cacheDir } from "../provider/builder/cache/dirs";
import { whichTool } from "../provider/builder/run/host";
import { memoryLogger } from "../provider/builder/run/log";
import { REPO, TestProject } from "../test/e2e/harness";
import { type Baseline, prepareBaseline } from "./baseline";
import { measureLayering } from "./layering";
import { fmt, median, settle, timed } from "./measure";

const SUITE = "bookworm";

interface Forest {
  name: string;
  /** Where the images file and the files its actions name are. */
  dir: string;
  images: any[];
}

function forestFrom(name: string, dir: string): Forest {
  return { name, dir, images: JSON.parse(fs.readFileSync(path.join(dir, "images.json"), "utf8")) };
}

const SMOKE: Forest = {
  name: "smoke",
  dir: "",
  images: [
    { name: "base.img", image_size: "1G", bootable: false, packages: [], actions: [{ type: "run-command", op: { Cmd: "true" } }] },
    { name: "child.qcow2", parent: "base.img", packages: [] },
  ],
};

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { ImageForest } = require("pulumi-vm-images");
const config = new pulumi.Config("vm-images");
const forest = new ImageForest("images", { imagesFile: "images.json", dir: "images", backend: config.require("backend"), suite: "${SUITE}" });
exports.images = Object.fromEntries(Object.entries(forest.images).map(([n, i]) => [n, { accel: i.accel, steps: i.stepSeconds, seconds: i.buildSeconds, source: i.source }]));
`;

interface ImageRun {
  seconds: number;
  source: string;
  steps: Record<string, number>;
  accel: string;
}

interface UpRun {
  seconds: number;
  peakKiB: number;
  images: Record<string, ImageRun>;
}

interface Measured {
  forest: string;
  backend: string;
  runs: Record<string, UpRun>;
  /** Of the cold up, the boot checks' seconds (work lvh does not do). */
  bootCheckSeconds: number;
  /** Each cold up's seconds without its boot checks: the one of `runs`, then any further ones (see COLD_SAMPLES). */
  coldSeconds: number[];
}

/** The direct backend's cold up is measured this many times (a fresh stack and caches each), and its ratios use the median. */
const COLD_SAMPLES = 3;

function copyForest(forest: Forest, into: string, images: unknown[]): void {
  if (forest.dir) {
    for (const entry of fs.readdirSync(forest.dir)) fs.cpSync(path.join(forest.dir, entry), path.join(into, entry), { recursive: true });
  }
  fs.writeFileSync(path.join(into, "images.json"), `${JSON.stringify(images, null, 2)}\n`);
}

/** The edit of the root action-only rebuild: the first run-command of the first image does one thing more. */
function editRootAction(images: any[]): any[] {
  const edited = JSON.parse(JSON.stringify(images));
  const action = edited[0].actions?.find((a: any) => a.type === "run-command");
  if (action) action.op.Cmd = `${action.op.Cmd} && touch /etc/bench-edited`;
  else edited[0].actions = [...(edited[0].actions ?? []), { type: "run-command", op: { Cmd: "touch /etc/bench-edited" } }];
  return edited;
}

/** The per-user cache without its downloaded packages and package lists (the built tools and host probes are shared). */
function emptyPackageCaches(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-bench-packages-"));
  for (const entry of fs.readdirSync(cacheDir())) {
    if (entry !== "debs" && entry !== "apt-lists") fs.symlinkSync(path.join(cacheDir(), entry), path.join(dir, entry));
  }
  return dir;
}

/** The direct backend's cold up with empty package caches, reported as its own backend. */
async function measureEmptyPackageCaches(forest: Forest): Promise<Measured> {
  const cache = emptyPackageCaches();
  try {
    return { ...(await measureOurs("direct", forest, { VM_IMAGES_CACHE_DIR: cache }, "cold")), backend: EMPTY };
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
}
const EMPTY = "direct, empty package caches";

async function measureOurs(backend: string, forest: Forest, extraEnv: Record<string, string> = {}, only: "all" | "cold" = "all", nodeModules?: string): Promise<Measured> {
  const project = await TestProject.create({ program: PROGRAM, files: {}, nodeModules });
  const built = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-bench-cache-"));
  const env = {
    ...project.environment(),
    // Cold means cold: a cache of built images and root disks of this run only.
    VM_IMAGES_BUILT_CACHE_DIR: built, VM_IMAGES_CACHE_MAX: "40G", ...extraEnv,
  };
  const up = async (label: string, images: unknown[]): Promise<UpRun> => {
    copyForest(forest, project.dir, images);
    console.error(`bench: ${forest.name}: ${backend}: ${label}`);
    await settle(`${forest.name}: ${backend}: ${label}`);
    const t = await timed(process.execPath, [path.join(REPO, "scripts", "pulumi.js"), "--cwd", project.dir, "--non-interactive",
      "up", "--yes", "--skip-preview", "--stack", project.stack], { env });
    const images2 = (await project.outputs()).images as Record<string, { accel: string; steps: Record<string, number>; seconds: number; source: string }>;
    return { ...t, images: Object.fromEntries(Object.entries(images2).map(([n, i]) => [n, { seconds: i.seconds, source: i.source, steps: i.steps ?? {}, accel: i.accel }])) };
  };
  try {
    await project.setConfig("backend", backend);
    const runs: Record<string, UpRun> = {};
    runs.cold = await up("cold up", forest.images);
    if (only === "all") {
      runs["no-op"] = await up("no-op up", forest.images);
      if (forest.images.length > 1) {
        const child = JSON.parse(JSON.stringify(forest.images));
        child[child.length - 1].packages = [...(child[child.length - 1].packages ?? []), "jq"];
        runs["child-only"] = await up("child-only rebuild", child);
        await up("child back", forest.images);
      }
      runs["root action-only"] = await up("root action-only rebuild", editRootAction(forest.images));
      runs.revert = await up("revert of the root edit", forest.images);
    }
    console.error(`bench: ${forest.name}: ${backend}: ${Object.entries(runs).map(([k, u]) => `${k} ${fmt(u.seconds)} s`).join(", ")}`);
    await project.destroy();
    const bootCheckSeconds = Object.values(runs.cold.images).reduce((sum, i) => sum + (i.steps["boot check"] ?? 0), 0);
    return { forest: forest.name, backend, runs, bootCheckSeconds, coldSeconds: [runs.cold.seconds - bootCheckSeconds] };
  } finally {
    await project.dispose();
    fs.rmSync(built, { recursive: true, force: true });
  }
}

/** The real lvh, cold, on the forest: `lvh images build --dir D --pkg-repo SUITE`. */
async function measureLvh(lvh: string, forest: Forest): Promise<Measured> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-bench-lvh-"));
  try {
    copyForest(forest, dir, forest.images);
    const accel = await guestfsEnvironment(cacheDir(), memoryLogger(), new AbortController().signal);
    console.error(`bench: ${forest.name}: lvh: cold build`);
    await settle(`${forest.name}: lvh`);
    const t = await timed(lvh, ["images", "build", "--dir", dir, "--pkg-repo", SUITE], { cwd: dir, env: { ...process.env, ...accel.env } });
    console.error(`bench: ${forest.name}: lvh: cold ${fmt(t.seconds)} s`);
    return { forest: forest.name, backend: "lvh", runs: { cold: { ...t, images: {} } }, bootCheckSeconds: 0, coldSeconds: [t.seconds] };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** LVH, else lvh on PATH; undefined when there is none. */
function findLvh(): string | undefined {
  if (process.env.LVH) {
    if (!fs.existsSync(process.env.LVH)) throw new Error(`LVH=${process.env.LVH}: no such file`);
    return path.resolve(process.env.LVH);
  }
  return whichTool("lvh");
}

const ratio = (a: number, b: number) => (a / b).toFixed(1);

function report(results: Measured[]): void {
  console.log("\n| forest | backend | run | up | peak memory | images (own build time, source) |");
  console.log("|---|---|---|---|---|---|");
  for (const r of results) {
    for (const [run, u] of Object.entries(r.runs)) {
      const images = Object.entries(u.images).map(([n, i]) => `${n} ${fmt(i.seconds)} s ${i.source}`).join("; ");
      console.log(`| ${r.forest} | ${r.backend} | ${run} | ${fmt(u.seconds)} s | ${(u.peakKiB / 1024).toFixed(0)} MiB | ${images} |`);
    }
  }
  console.log("\n| forest | backend | image | cold step | seconds |");
  console.log("|---|---|---|---|---|");
  for (const r of results) {
    for (const [image, i] of Object.entries(r.runs.cold.images)) {
      for (const [step, secs] of Object.entries(i.steps)) console.log(`| ${r.forest} | ${r.backend} | ${image} | ${step} | ${fmt(secs)} |`);
    }
  }
  console.log("");
  for (const r of results.filter((m) => m.backend !== "lvh" && m.runs.revert)) {
    const cold = r.runs.cold.images;
    const first = Object.keys(cold)[0];
    const pct = (run: string, image: string) => `${((r.runs[run].images[image].seconds / cold[image].seconds) * 100).toFixed(1)}%`;
    const edit = r.runs["root action-only"].images[first];
    const steps = Object.entries(edit.steps).map(([step, secs]) => `${step} ${fmt(secs)}`).join(", ");
    console.log(`${r.forest} ${r.backend}: root action-only rebuild of ${first}: ${fmt(edit.seconds)} s, ` +
      `${pct("root action-only", first)} of its cold ${fmt(cold[first].seconds)} s (steps: ${steps})`);
    const boot = (i: ImageRun) => i.steps["boot check"] ?? 0;
    if (boot(cold[first]) > 0) {
      // The boot check (qemu from the image's own disk) is the same work whatever built the image.
      const [e, c] = [edit.seconds - boot(edit), cold[first].seconds - boot(cold[first])];
      console.log(`${r.forest} ${r.backend}: without the boot check: root action-only rebuild of ${first}: ${fmt(e)} s, ${((e / c) * 100).toFixed(1)}% of its cold ${fmt(c)} s`);
    }
    for (const image of Object.keys(cold)) {
      console.log(`${r.forest} ${r.backend}: revert of ${image}: ${fmt(r.runs.revert.images[image].seconds)} s (${r.runs.revert.images[image].source}), ${pct("revert", image)} of its cold ${fmt(cold[image].seconds)} s`);
    }
    if (r.bootCheckSeconds) console.log(`${r.forest} ${r.backend}: boot check ${fmt(r.bootCheckSeconds)} s of the cold up`);
  }
  // Every backend measured more than once (ours, and a baseline's), with each run.
  for (const r of results.filter((m) => m.coldSeconds.length > 1)) {
    console.log(`${r.forest} ${r.backend}: cold ups without the boot check, ${r.coldSeconds.length} runs: ${r.coldSeconds.map(fmt).join(", ")} s (median ${fmt(median(r.coldSeconds))} s)`);
  }
}

function ratios(results: Measured[], lvhFound: boolean): void {
  console.log("");
  const forests = [...new Set(results.map((r) => r.forest))];
  for (const forest of forests) {
    const cold = (backend: string) => {
      const r = results.find((m) => m.forest === forest && m.backend === backend);
      return r && median(r.coldSeconds);
    };
    const [lvh, guestfs, direct, empty] = [cold("lvh"), cold("guestfs"), cold("direct"), cold(EMPTY)];
    const suffix = forests.length > 1 ? ` (${forest})` : "";
    for (const r of results.filter((m) => m.forest === forest && m.backend.startsWith(BASELINE))) {
      if (direct !== undefined) console.log(`ratio ${r.backend}/direct: ${(median(r.coldSeconds) / direct).toFixed(2)}${suffix}`);
    }
    if (lvh !== undefined && direct !== undefined) console.log(`ratio lvh/direct: ${ratio(lvh, direct)}${suffix}`);
    if (lvh !== undefined && empty !== undefined) console.log(`ratio lvh/direct, empty package caches: ${ratio(lvh, empty)}${suffix}`);
    if (lvh !== undefined && guestfs !== undefined) console.log(`ratio lvh/guestfs: ${ratio(lvh, guestfs)}${suffix}`);
    if (guestfs !== undefined && direct !== undefined) console.log(`ratio guestfs/direct: ${ratio(guestfs, direct)}${suffix}`);
  }
  if (!lvhFound) console.log("lvh: not found (give LVH=/path/to/lvh or put lvh on PATH): no lvh ratios");
}

async function main() {
  const args = process.argv.slice(2);
  const list = (flag: string) => {
    const v = args.find((a, i) => args[i - 1] === flag || a.startsWith(`${flag}=`));
    const names = v === undefined ? undefined : v.replace(`${flag}=`, "").split(",");
    for (const b of names ?? []) if (!["lvh", "guestfs", "direct"].includes(b)) throw new Error(`${flag}: unknown backend ${b} (lvh, guestfs, direct)`);
    return names;
  };
  const wanted = list("--backends") ?? ["lvh", "guestfs", "direct"];
  const coldOnly = list("--cold-only") ?? [];
  const baselineRef = args.find((a, i) => args[i - 1] === "--baseline" || a.startsWith("--baseline="))?.replace("--baseline=", "");
  const baseline = baselineRef === undefined ? undefined : prepareBaseline(baselineRef);
  try {
    await measureAll(args, wanted, coldOnly, baseline);
  } finally {
    baseline?.dispose();
  }
}

const BASELINE = "direct at ";

/** The baseline's direct cold ups: as many as ours, right after ours, in the same run. */
async function measureBaseline(baseline: Baseline, forest: Forest): Promise<Measured> {
  const label = `${BASELINE}${baseline.ref} (${baseline.commit.slice(0, 12)})`;
  const first = await measureOurs("direct", forest, {}, "cold", baseline.nodeModules);
  for (let i = 1; i < COLD_SAMPLES; i++) first.coldSeconds.push(...(await measureOurs("direct", forest, {}, "cold", baseline.nodeModules)).coldSeconds);
  return { ...first, backend: label };
}

async function measureAll(args: string[], wanted: string[], coldOnly: string[], baseline: Baseline | undefined): Promise<void> {
  const smoke = args.includes("--smoke");
  if (smoke) {
    const r = await measureOurs("direct", SMOKE);
    report([r]);
    return;
  }
  const only = args.find((a, i) => args[i - 1] === "--forests" || a.startsWith("--forests="))?.replace("--forests=", "").split(",");
  for (const name of only ?? []) if (!["seed", "bootable", "ci", "kind"].includes(name)) throw new Error(`--forests: unknown forest ${name} (seed, bootable, ci, kind)`);
  if (args.includes("--small") && !only?.includes("kind")) throw new Error("--small: only with --forests kind");
  const forests = ["seed", "bootable"].filter((name) => !only || only.includes(name)).map((name) => forestFrom(name, path.join(REPO, "examples", name)));
  const lvh = wanted.includes("lvh") && forests.length ? findLvh() : undefined;
  const results: Measured[] = [];
  for (const forest of forests) {
    if (lvh) results.push(await measureLvh(lvh, forest));
    for (const backend of ["guestfs", "direct"].filter((b) => wanted.includes(b))) {
      const measured = await measureOurs(backend, forest, {}, coldOnly.includes(backend) ? "cold" : "all");
      if (backend === "direct") {
        for (let i = 1; i < COLD_SAMPLES; i++) measured.coldSeconds.push(...(await measureOurs(backend, forest, {}, "cold")).coldSeconds);
      }
      results.push(measured);
    }
    if (baseline && wanted.includes("direct")) results.push(await measureBaseline(baseline, forest));
    if (wanted.includes("direct")) results.push(await measureEmptyPackageCaches(forest));
  }
  if (forests.length) {
    report(results);
    ratios(results, lvh !== undefined);
  }
  if (wanted.includes("direct") && (!only || only.includes("ci"))) {
    const ci = forestFrom("ci", path.join(REPO, "examples", "ci"));
    const serial = await measureOurs("direct", ci, { VM_IMAGES_PARALLEL: "1" }, "cold");
    const parallel = await measureOurs("direct", ci, { VM_IMAGES_PARALLEL: "2" }, "cold");
    console.log(`\nci stack's forest, direct, cold: one build at a time ${fmt(serial.runs.cold.seconds)} s, two at a time ${fmt(parallel.runs.cold.seconds)} s ` +
      `(ratio ${ratio(serial.runs.cold.seconds, parallel.runs.cold.seconds)})`);
  }
  // Not in the default set: upwards of 25 minutes of builds and pulls (layering.ts).
  if (wanted.includes("direct") && only?.includes("kind")) await measureLayering(COLD_SAMPLES, args.includes("--small"));
  console.log(`\nmachine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${new Date().toISOString().slice(0, 10)}${lvh ? `; lvh: ${lvh}` : ""}` +
    `${baseline ? `; baseline: ${baseline.ref} ${baseline.commit}` : ""}`);
}

main().catch((err) => {
  console.error(`bench: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
