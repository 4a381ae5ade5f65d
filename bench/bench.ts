// `npm run bench`: the seed's example forest built cold through the real
// Pulumi CLI by each backend, on this machine, in one run; then a no-op `up`
// and a child-only rebuild with each. Prints per-step and total times, peak
// memory, image sizes and libguestfs's acceleration, and last the ratio of
// the cold totals. Ratios, not absolute times, are what carry over. The boot
// check (qemu, the same for both backends) is reported on its own, and the
// ratio is of the cold totals without it, comparable with earlier runs.
//
//   npm run bench                  both backends, the seed's forest
//   npm run bench -- --smoke       the direct backend, a tiny forest (run by npm test)
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO, TestProject } from "../test/e2e/harness";

interface Measured {
  backend: string;
  coldSeconds: number;
  /** Of the cold up, the boot checks' seconds (the same work for every backend). */
  bootCheckSeconds: number;
  noopSeconds: number;
  childSeconds: number;
  peakMiB: number;
  steps: Record<string, Record<string, number>>;
  sizes: Record<string, { file: number; allocated: number }>;
  accel: string;
}

const SEED = path.join(REPO, "examples", "seed", "images.json");
const SMOKE = [
  { name: "base.img", image_size: "1G", bootable: false, packages: [] },
  { name: "child.qcow2", parent: "base.img", packages: [] },
];

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { ImageForest } = require("pulumi-vm-images");
const config = new pulumi.Config("vm-images");
const forest = new ImageForest("images", { imagesFile: "images.json", dir: "images", backend: config.require("backend") });
exports.images = Object.fromEntries(Object.entries(forest.images).map(([n, i]) => [n, { path: i.path, accel: i.accel, steps: i.stepSeconds }]));
`;

/** Resident memory of a process and all its descendants, in KiB. */
function treeRssKiB(root: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
      rss.set(pid, Number(fields[21]) * 4);
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const queue = [root];
  while (queue.length) {
    const pid = queue.pop()!;
    total += rss.get(pid) ?? 0;
    queue.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Run `pulumi up` in the project, timing it and sampling the peak memory of the CLI's process tree. */
function timedUp(project: TestProject): Promise<{ seconds: number; peakKiB: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [path.join(REPO, "scripts", "pulumi.js"), "--cwd", project.dir, "--non-interactive",
      "up", "--yes", "--skip-preview", "--stack", project.stack], {
      env: { ...process.env, PULUMI_BACKEND_URL: `file://${path.join(project.dir, ".state")}`, PULUMI_CONFIG_PASSPHRASE: "e2e" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    let peakKiB = 0;
    const sampler = setInterval(() => (peakKiB = Math.max(peakKiB, treeRssKiB(child.pid!))), 500);
    child.on("exit", (code) => {
      clearInterval(sampler);
      if (code === 0) resolve({ seconds: (Date.now() - started) / 1000, peakKiB });
      else reject(new Error(`pulumi up exited ${code}\n${stderr.slice(-3000)}`));
    });
  });
}

async function measure(backend: string, forest: unknown[], childChange: (f: any[]) => void): Promise<Measured> {
  const project = await TestProject.create({ program: PROGRAM, files: { "images.json": JSON.stringify(forest, null, 2) } });
  try {
    await project.setConfig("backend", backend);
    console.error(`bench: ${backend}: cold up`);
    const cold = await timedUp(project);
    const images = (await project.outputs()).images as Record<string, { path: string; accel: string; steps: Record<string, number> }>;
    console.error(`bench: ${backend}: no-op up`);
    const noop = await timedUp(project);
    const changed = JSON.parse(JSON.stringify(forest));
    childChange(changed);
    fs.writeFileSync(path.join(project.dir, "images.json"), JSON.stringify(changed, null, 2));
    console.error(`bench: ${backend}: child-only rebuild`);
    const child = await timedUp(project);
    const sizes: Measured["sizes"] = {};
    for (const name of Object.keys(images)) {
      const st = fs.statSync(path.join(project.dir, "images", name));
      sizes[name] = { file: st.size, allocated: st.blocks * 512 };
    }
    await project.destroy();
    const bootCheckSeconds = Object.values(images).reduce((sum, i) => sum + (i.steps?.["boot check"] ?? 0), 0);
    return {
      backend,
      coldSeconds: cold.seconds,
      bootCheckSeconds,
      noopSeconds: noop.seconds,
      childSeconds: child.seconds,
      peakMiB: Math.max(cold.peakKiB, child.peakKiB) / 1024,
      steps: Object.fromEntries(Object.entries(images).map(([n, i]) => [n, i.steps])),
      sizes,
      accel: Object.values(images)[0]?.accel ?? "?",
    };
  } finally {
    await project.dispose();
  }
}

/** lvh from the Go module proxy, if it can be had there. */
function lvhStatus(): string {
  try {
    execFileSync("go", ["list", "-m", "github.com/cilium/little-vm-helper@latest"], { stdio: "pipe", encoding: "utf8", env: { ...process.env, GOFLAGS: "-mod=mod" }, cwd: "/" });
    return "available";
  } catch (err) {
    const msg = String((err as { stderr?: string }).stderr ?? err).split("\n").find((l) => l.trim()) ?? "";
    return `not installable from the Go module proxy here (${msg.trim().slice(0, 160)})`;
  }
}

const fmt = (n: number) => n.toFixed(1);
const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

function report(results: Measured[]): void {
  console.log("\n| backend | cold up | of which boot check | cold up without it | no-op up | child-only rebuild | peak memory | libguestfs acceleration |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(`| ${r.backend} | ${fmt(r.coldSeconds)} s | ${fmt(r.bootCheckSeconds)} s | ${fmt(r.coldSeconds - r.bootCheckSeconds)} s | ` +
      `${fmt(r.noopSeconds)} s | ${fmt(r.childSeconds)} s | ${r.peakMiB.toFixed(0)} MiB | ${r.accel} |`);
  }
  console.log("\n| backend | image | step | seconds |");
  console.log("|---|---|---|---|");
  for (const r of results) {
    for (const [image, steps] of Object.entries(r.steps)) {
      for (const [step, secs] of Object.entries(steps ?? {})) console.log(`| ${r.backend} | ${image} | ${step} | ${fmt(secs)} |`);
    }
  }
  console.log("\n| backend | image | file size | allocated |");
  console.log("|---|---|---|---|");
  for (const r of results) {
    for (const [image, s] of Object.entries(r.sizes)) console.log(`| ${r.backend} | ${image} | ${mib(s.file)} | ${mib(s.allocated)} |`);
  }
}

async function main() {
  const smoke = process.argv.includes("--smoke");
  const forest = smoke ? SMOKE : JSON.parse(fs.readFileSync(SEED, "utf8"));
  const childChange = (f: any[]) => f[f.length - 1].packages.push("jq");
  const backends = smoke ? ["direct"] : ["guestfs", "direct"];
  const results: Measured[] = [];
  for (const backend of backends) results.push(await measure(backend, forest, childChange));
  report(results);
  console.log(`\nlvh: ${lvhStatus()}`);
  const g = results.find((r) => r.backend === "guestfs");
  const d = results.find((r) => r.backend === "direct")!;
  if (g) {
    // Without the boot checks, which take the same time for both and would flatten the ratio.
    console.log(`ratio guestfs/direct: ${((g.coldSeconds - g.bootCheckSeconds) / (d.coldSeconds - d.bootCheckSeconds)).toFixed(1)}`);
    console.log(`boot check: guestfs ${fmt(g.bootCheckSeconds)} s, direct ${fmt(d.bootCheckSeconds)} s`);
  }
}

main().catch((err) => {
  console.error(`bench: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
