// `npm run bench -- --forests kind`: vm-images:layering flat against
// overlay, on a forest shaped like lvh-images' kind images: a bootable root
// (base.img), kind.qcow2 with docker.io and golang-1.19-go, and three
// grandchildren kind_<n>.qcow2, each with another Debian cloud kernel.
//
// The direct backend's cold up, the same number of times with each layering
// (interleaved, the order swapped every other round), each with a fresh
// stack, built-image cache and local registry (vm-images:registry, so the up
// publishes every image). For each: the up's time; the images directory's
// bytes on disk (allocated, layers included, a hard link once); the bytes
// pushed (the layer sizes of the published manifests); and the time a second
// runner takes to pull the forest into an empty directory (`lvh images pull`
// of each published REPO@DIGEST, parents first; an overlay brings its chain).
// Last, each derived image's bytes on disk as a share of its flat copy.
//
// The kernels are those of the mirror's current package lists: an untimed
// warm-up builds the root alone first (its mmdebstrap refreshes the lists
// in the cache), then the whole forest once, so that the measured ups,
// whichever layering comes first, find the same downloaded packages.
//
// `--small` (with `--forests kind`): a forest of a root and one child and
// one grandchild with a small package each, one sample of each layering, no
// warm-up: a quick check that the comparison runs end to end.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO, TestProject } from "../test/e2e/harness";
import { cloudKernels } from "../test/support/kernels";
import { craneSync, TestRegistry } from "../test/support/registry";
import { fmt, median, settle, timed } from "./measure";

const SUITE = "bookworm";
const LAYERINGS = ["flat", "overlay"] as const;
type Layering = (typeof LAYERINGS)[number];

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { ImageForest } = require("pulumi-vm-images");
const config = new pulumi.Config("vm-images");
const forest = new ImageForest("images", {
  imagesFile: "images.json", dir: "images", backend: config.require("backend"), suite: "${SUITE}",
  layering: config.get("layering"), registry: config.get("registry"),
});
exports.images = Object.fromEntries(Object.entries(forest.images).map(([n, i]) => [n, { seconds: i.buildSeconds, source: i.source, published: i.published, publishError: i.publishError }]));
`;

/** lvh-images' kind forest, with these kernel packages for the grandchildren. */
export function kindForest(kernels: string[]): unknown[] {
  return [
    { name: "base.img", bootable: true, packages: [], actions: [{ type: "run-command", op: { Cmd: "passwd -d root" } }] },
    { name: "kind.qcow2", parent: "base.img", packages: ["docker.io", "golang-1.19-go"] },
    ...kernels.map((kernel, i) => ({ name: `kind_${i}.qcow2`, parent: "kind.qcow2", packages: [kernel] })),
  ];
}

/** The same shape, tiny: for checking that the comparison runs. */
const SMALL = [
  { name: "base.img", image_size: "1G", bootable: false, packages: [], actions: [{ type: "run-command", op: { Cmd: "true" } }] },
  { name: "kind.qcow2", parent: "base.img", packages: ["less"] },
  { name: "kind_0.qcow2", parent: "kind.qcow2", packages: ["jq"] },
];

interface Sample {
  layering: Layering;
  upSeconds: number;
  /** Bytes on disk of the images directory after the up. */
  dirBytes: number;
  /** Bytes on disk of each image's own file, by name. */
  imageBytes: Record<string, number>;
  pushedBytes: number;
  pullSeconds: number;
  /** Bytes on disk of the directory the forest was pulled into. */
  pulledBytes: number;
  /** Its files (images and layers) with their bytes on disk. */
  pulledFiles: Record<string, number>;
}

/** Allocated bytes of the files under `dir`, each inode once (a hard link is not counted twice). */
export function allocatedBytes(dir: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) {
        const st = fs.lstatSync(p);
        const id = `${st.dev}:${st.ino}`;
        if (!seen.has(id)) total += st.blocks * 512;
        seen.add(id);
      }
    }
  };
  walk(dir);
  return total;
}

/** The layer bytes of a published image's manifest. */
function pushedBytesOf(ref: string): number {
  const manifest = JSON.parse(craneSync(["manifest", ref])) as { layers?: { size: number }[] };
  return (manifest.layers ?? []).reduce((sum, l) => sum + l.size, 0);
}

const envFor = (project: TestProject, built: string) => ({
  ...project.environment(),
  VM_IMAGES_BUILT_CACHE_DIR: built, VM_IMAGES_CACHE_MAX: "40G",
});

async function upOnce(project: TestProject, env: NodeJS.ProcessEnv) {
  return timed(process.execPath, [path.join(REPO, "scripts", "pulumi.js"), "--cwd", project.dir, "--non-interactive",
    "up", "--yes", "--skip-preview", "--stack", project.stack], { env });
}

/**
 * Untimed: the root alone (its mmdebstrap refreshes the mirror's package
 * lists in the cache), the kernels read from them, then the whole forest
 * once, so that its packages are downloaded before any measured up.
 */
async function warmUp(): Promise<unknown[]> {
  const project = await TestProject.create({ program: PROGRAM, files: {} });
  const built = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-bench-cache-"));
  try {
    await project.setConfig("backend", "direct");
    const full = (kernels: string[]) => kindForest(kernels);
    const started = Date.now();
    console.error("bench: kind: warm-up (untimed): the root");
    fs.writeFileSync(path.join(project.dir, "images.json"), JSON.stringify(full([]).slice(0, 1)));
    await upOnce(project, envFor(project, built));
    const images = full(cloudKernels());
    console.error(`bench: kind: warm-up (untimed): the forest, kernels ${images.slice(2).map((i: any) => i.packages[0]).join(", ")}`);
    fs.writeFileSync(path.join(project.dir, "images.json"), JSON.stringify(images));
    await upOnce(project, envFor(project, built));
    console.error(`bench: kind: warm-up ${fmt((Date.now() - started) / 1000)} s`);
    return images;
  } finally {
    await project.dispose();
    fs.rmSync(built, { recursive: true, force: true });
  }
}

async function sample(images: unknown[], layering: Layering, label: string): Promise<Sample> {
  const registry = await TestRegistry.start();
  const project = await TestProject.create({ program: PROGRAM, files: {} });
  const built = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-bench-cache-"));
  const pulled = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-bench-pull-"));
  try {
    await project.setConfig("backend", "direct");
    await project.setConfig("layering", layering);
    await project.setConfig("registry", `${registry.host}/bench/kind`);
    fs.writeFileSync(path.join(project.dir, "images.json"), `${JSON.stringify(images, null, 2)}\n`);
    console.error(`bench: kind: ${label}: cold up`);
    await settle(`kind: ${label}: cold up`);
    const up = await upOnce(project, envFor(project, built));
    const outputs = (await project.outputs()).images as Record<string, { published?: string; publishError?: string }>;
    const names = (images as { name: string }[]).map((i) => i.name);
    const refs = names.map((name) => {
      const { published, publishError } = outputs[name];
      if (!published) throw new Error(`kind: ${label}: ${name} was not published${publishError ? `: ${publishError}` : ""}`);
      return published;
    });
    const dir = path.join(project.dir, "images");
    const imageBytes = Object.fromEntries(names.map((name) => [name, fs.statSync(path.join(dir, name)).blocks * 512]));
    // The second runner: an empty directory, each image pulled by the digest it was published with, parents first.
    console.error(`bench: kind: ${label}: pull`);
    await settle(`kind: ${label}: pull`);
    const env = { ...process.env };
    delete env.INIT_CWD;
    let pullSeconds = 0;
    for (const ref of refs) pullSeconds += (await timed(process.execPath, [path.join(REPO, "dist", "cli", "lvh.js"), "images", "pull", ref, "--dir", pulled], { env })).seconds;
    const into = path.join(pulled, "images");
    const pulledFiles: Record<string, number> = {};
    for (const f of fs.readdirSync(into).sort()) {
      const st = fs.statSync(path.join(into, f));
      if (st.isFile()) pulledFiles[f] = st.blocks * 512;
    }
    const s: Sample = {
      layering, upSeconds: up.seconds, dirBytes: allocatedBytes(dir), imageBytes,
      pushedBytes: refs.reduce((sum, ref) => sum + pushedBytesOf(ref), 0), pullSeconds, pulledBytes: allocatedBytes(into), pulledFiles,
    };
    console.error(`bench: kind: ${label}: up ${fmt(s.upSeconds)} s, on disk ${mib(s.dirBytes)}, pushed ${mib(s.pushedBytes)}, pull ${fmt(s.pullSeconds)} s`);
    return s;
  } finally {
    await project.dispose();
    await registry.dispose();
    fs.rmSync(built, { recursive: true, force: true });
    fs.rmSync(pulled, { recursive: true, force: true });
  }
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Measure and print the comparison; `small` for the tiny forest and one sample. */
export async function measureLayering(samples: number, small: boolean): Promise<void> {
  const images = small ? SMALL : await warmUp();
  const rounds = small ? 1 : samples;
  const results: Sample[] = [];
  for (let round = 0; round < rounds; round++) {
    // Neither layering always goes first.
    const order = round % 2 ? [...LAYERINGS].reverse() : [...LAYERINGS];
    for (const layering of order) results.push(await sample(images, layering, `${layering} ${round + 1}/${rounds}`));
  }
  report(small ? "kind (small)" : "kind", images as { name: string; parent?: string; packages?: string[] }[], results);
}

function report(forest: string, images: { name: string; parent?: string; packages?: string[] }[], results: Sample[]): void {
  const of = (layering: Layering) => results.filter((r) => r.layering === layering);
  const count = of("flat").length;
  console.log(`\n## layering: the ${forest} forest, direct backend, flat against overlay (${count} cold up${count > 1 ? "s" : ""} each, interleaved)\n`);
  console.log(`forest: ${images.map((i) => `${i.name}${i.parent ? ` (from ${i.parent}${i.packages?.length ? `, ${i.packages.join(" ")}` : ""})` : ""}`).join("; ")}\n`);
  console.log("| layering | cold up | images dir on disk | pushed (layers) | pull into an empty dir | pulled dir on disk |");
  console.log("|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(`| ${r.layering} | ${fmt(r.upSeconds)} s | ${mib(r.dirBytes)} | ${mib(r.pushedBytes)} | ${fmt(r.pullSeconds)} s | ${mib(r.pulledBytes)} |`);
  }
  // Bytes do not vary between runs of one layering (reproducible images); times do, hence medians.
  const [flat, overlay] = [of("flat")[0], of("overlay")[0]];
  console.log("\n| image | flat on disk | overlay on disk | overlay/flat |");
  console.log("|---|---|---|---|");
  for (const { name } of images) {
    const [f, o] = [flat.imageBytes[name], overlay.imageBytes[name]];
    console.log(`| ${name} | ${mib(f)} | ${mib(o)} | ${(o / f).toFixed(3)} |`);
  }
  for (const r of [flat, overlay]) {
    console.log(`\n${r.layering}: pulled files on disk: ${Object.entries(r.pulledFiles).map(([f, b]) => `${f} ${mib(b)}`).join("; ")}`);
  }
  const mid = (layering: Layering, key: "upSeconds" | "pullSeconds") => median(of(layering).map((r) => r[key]));
  console.log("");
  console.log(`layering ratio overlay/flat: cold up ${(mid("overlay", "upSeconds") / mid("flat", "upSeconds")).toFixed(2)} (medians ${fmt(mid("overlay", "upSeconds"))} s, ${fmt(mid("flat", "upSeconds"))} s)`);
  console.log(`layering ratio overlay/flat: images dir on disk ${(overlay.dirBytes / flat.dirBytes).toFixed(3)}`);
  console.log(`layering ratio overlay/flat: pushed ${(overlay.pushedBytes / flat.pushedBytes).toFixed(3)}`);
  console.log(`layering ratio overlay/flat: pull ${(mid("overlay", "pullSeconds") / mid("flat", "pullSeconds")).toFixed(2)} (medians ${fmt(mid("overlay", "pullSeconds"))} s, ${fmt(mid("flat", "pullSeconds"))} s)`);
  console.log(`layering ratio overlay/flat: pulled dir on disk ${(overlay.pulledBytes / flat.pulledBytes).toFixed(3)}`);
}
