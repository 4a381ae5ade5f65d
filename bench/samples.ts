// The samples of one forest: every builder (lvh, guestfs, direct, a
// baseline) the same number of times, interleaved: in each round each
// builder once, the order rotated from round to round so that none always
// goes first. First the rounds with empty package caches (the like-for-like
// headline), then, after an untimed warm-up, the rounds with the user's
// package caches warm, the first of which carries each of our builders'
// edit sequence. Every sample is checked to have built everything itself.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO, TestProject } from "../test/e2e/harness";
import { coldReuse, lvhMissing } from "./coldcheck";
import { copyForest, editChild, editRootAction, emptyPackageCaches, type Forest, SUITE } from "./forests";
import { filesWritten } from "./machine";
import { fmt, settle, timed } from "./measure";
import { roundOrder } from "./plan";
import type { Builder, Condition, EditRuns, ForestResult, ImageSample, Sample, UpRun } from "./results";

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { ImageForest } = require("pulumi-vm-images");
const config = new pulumi.Config("vm-images");
const forest = new ImageForest("images", { imagesFile: "images.json", dir: "images", backend: config.require("backend"), arch: config.get("arch"), suite: "${SUITE}" });
exports.images = Object.fromEntries(Object.entries(forest.images).map(([n, i]) => [n, { accel: i.accel, steps: i.stepSeconds, seconds: i.buildSeconds, source: i.source, builtAt: i.builtAt }]));
`;

export interface Plan {
  builders: Builder[];
  samples: number;
  /** Measure the warm-cache rounds too. */
  warm: boolean;
  /** Builders whose first warm sample carries the edit sequence. */
  edits: string[];
  lvh?: string;
  /** By builder id: the node_modules of a baseline's package. */
  nodeModules: Record<string, string>;
}

/** The environment that gives a libguestfs builder its acceleration ("user-settings": the user's own). */
function accelEnv(b: Builder): Record<string, string | undefined> {
  if (b.tool === "direct" || b.accel === "user-settings") return {};
  return { LIBGUESTFS_BACKEND: process.env.LIBGUESTFS_BACKEND ?? "direct", LIBGUESTFS_BACKEND_SETTINGS: b.accel === "tcg" ? "force_tcg" : undefined };
}

function withEnv(base: NodeJS.ProcessEnv, extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env = { ...base, ...extra };
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k];
  return env;
}

const bootCheck = (u: UpRun) => Object.values(u.images).reduce((sum, i) => sum + (i.steps["boot check"] ?? 0), 0);

/**
 * Our backend's cold `up` on a fresh stack and cache of built images and
 * root stages, then, with `edits`, a no-op `up`, a child-only rebuild, its
 * revert, a root action-only rebuild and its revert.
 */
export async function upSequence(b: Builder, forest: Forest, env: Record<string, string | undefined>, edits: boolean, nodeModules?: string): Promise<{ cold: UpRun; runs: Record<string, UpRun> }> {
  const project = await TestProject.create({ program: PROGRAM, files: {}, nodeModules });
  const built = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-bench-cache-"));
  // Cold means cold: a cache of built images and root disks of this stack only.
  const fullEnv = withEnv(project.environment(), { VM_IMAGES_BUILT_CACHE_DIR: built, VM_IMAGES_CACHE_MAX: "40G", ...accelEnv(b), ...env });
  const up = async (label: string, config: unknown[]): Promise<UpRun> => {
    copyForest(forest, project.dir, config);
    console.error(`bench: ${forest.name}: ${b.id}: ${label}`);
    await settle(`${forest.name}: ${b.id}: ${label}`);
    const t = await timed(process.execPath, [path.join(REPO, "scripts", "pulumi.js"), "--cwd", project.dir, "--non-interactive",
      "up", "--yes", "--skip-preview", "--stack", project.stack], { env: fullEnv });
    const outs = (await project.outputs()).images as Record<string, ImageSample>;
    const images = Object.fromEntries(Object.entries(outs).map(([n, i]) => [n, { ...i, steps: i.steps ?? {} }]));
    console.error(`bench: ${forest.name}: ${b.id}: ${label}: ${fmt(t.seconds)} s`);
    return { ...t, images };
  };
  try {
    await project.setConfig("backend", b.tool);
    if (b.arch) await project.setConfig("arch", b.arch);
    const cold = await up("cold up", forest.images);
    const runs: Record<string, UpRun> = {};
    if (edits) {
      runs["no-op"] = await up("no-op up", forest.images);
      if (forest.images.length > 1) {
        runs["child-only"] = await up("child-only rebuild", editChild(forest.images));
        runs["child back"] = await up("child back", forest.images);
      }
      runs["root action-only"] = await up("root action-only rebuild", editRootAction(forest.images));
      runs.revert = await up("revert of the root edit", forest.images);
    }
    await project.destroy();
    return { cold, runs };
  } finally {
    await project.dispose();
    fs.rmSync(built, { recursive: true, force: true });
  }
}

/** The real lvh, cold, on the forest: `lvh images build --dir D --pkg-repo SUITE`; it keeps no package cache. */
async function lvhBuild(lvh: string, b: Builder, forest: Forest): Promise<UpRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-bench-lvh-"));
  try {
    copyForest(forest, dir, forest.images);
    console.error(`bench: ${forest.name}: ${b.id}: cold build`);
    await settle(`${forest.name}: ${b.id}`);
    const started = Date.now();
    const t = await timed(lvh, ["images", "build", "--dir", dir, "--pkg-repo", SUITE], { cwd: dir, env: withEnv(process.env, accelEnv(b)) });
    const missing = lvhMissing(forest.images, filesWritten(dir), started);
    if (missing.length) throw new Error(`${forest.name}: ${b.id}: the cold build did not build every image: ${missing.join("; ")}`);
    console.error(`bench: ${forest.name}: ${b.id}: cold ${fmt(t.seconds)} s`);
    return { ...t, images: {} };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Stop the run when a cold `up` reused anything, or libguestfs ran with another acceleration than the row says. */
export function mustBeCold(b: Builder, forest: Forest, cold: UpRun, what: string): void {
  const reused = coldReuse(forest.images, cold.images);
  if (reused.length) throw new Error(`${forest.name}: ${b.id}: a cold up (${what}) reused or left out: ${reused.join("; ")}`);
  const other = b.tool === "guestfs" ? Object.entries(cold.images).filter(([, i]) => i.accel !== b.accel && i.accel !== "user-settings") : [];
  if (other.length) throw new Error(`${forest.name}: ${b.id}: libguestfs ran with ${other.map(([n, i]) => `${i.accel} for ${n}`).join(", ")}, not ${b.accel}`);
}

/** One sample of a builder; for ours, with `edits` its edit sequence too. */
async function sample(plan: Plan, b: Builder, forest: Forest, condition: Condition, edits: boolean): Promise<{ up: UpRun; edits?: EditRuns }> {
  if (b.tool === "lvh") return { up: await lvhBuild(plan.lvh!, b, forest) };
  const cache = condition === "empty" ? emptyPackageCaches() : undefined;
  try {
    const r = await upSequence(b, forest, cache ? { VM_IMAGES_CACHE_DIR: cache } : {}, edits, plan.nodeModules[b.id]);
    mustBeCold(b, forest, r.cold, `${condition} package caches`);
    return { up: r.cold, edits: edits ? { builder: b.id, cold: r.cold, runs: r.runs } : undefined };
  } finally {
    if (cache) fs.rmSync(cache, { recursive: true, force: true });
  }
}

export async function sampleForest(plan: Plan, forest: Forest, warmUp: (forest: Forest) => Promise<void>): Promise<ForestResult> {
  const result: ForestResult = { name: forest.name, images: forest.images.map((i) => i.name), samples: [], edits: [] };
  const active = plan.builders.filter((b) => !b.absent && (!b.forests || b.forests.includes(forest.name)));
  const phases: { condition: Condition; builders: Builder[] }[] = [{ condition: "empty", builders: active }];
  const ours = active.filter((b) => b.tool !== "lvh" && !b.arch);
  if (plan.warm && ours.length) phases.push({ condition: "warm", builders: ours });
  for (const { condition, builders } of phases) {
    if (condition === "warm") await warmUp(forest);
    for (let round = 0; round < plan.samples; round++) {
      for (const [position, b] of roundOrder(builders, round).entries()) {
        const s = await sample(plan, b, forest, condition, condition === "warm" && round === 0 && plan.edits.includes(b.id));
        result.samples.push({ builder: b.id, condition, round, position, ...s.up, bootCheckSeconds: bootCheck(s.up) } satisfies Sample);
        if (s.edits) result.edits.push(s.edits);
      }
    }
  }
  return result;
}
