// `npm run bench`: forests built through the real Pulumi CLI by each backend
// of ours, and by the real lvh when one is given, on this machine, in one
// run, every builder sampled alike (samples.ts). Ratios, not absolute
// times, are what carry over. The run's raw results go to
// bench/results/<date>-<commit>.json, with a Markdown rendering beside it;
// docs/performance.md quotes the latest (docs.ts).
//
//   npm run bench                              every builder found, seed and bootable forests, then ci
//   npm run bench -- --backends direct,lvh     some builders
//   npm run bench -- --samples 5               samples of each builder and condition (default 3)
//   npm run bench -- --no-warm                 only the like-for-like rounds (empty package caches), no edits
//   npm run bench -- --cold-only guestfs       no edit sequence for those
//   npm run bench -- --forests seed,ci         some forests (seed, bootable, smoke: tiny; ci: one and two builds at a time)
//   npm run bench -- --forests kind            vm-images:layering flat against overlay (layering.ts; not in the default set)
//   npm run bench -- --forests kind --small    the same on a tiny forest, once each: a quick check that it runs
//   npm run bench -- --smoke                   the direct backend, the tiny forest, once, no results file (npm test runs this)
//   npm run bench -- --baseline REF            also the direct backend of commit REF (baseline.ts)
//   npm run bench -- --no-floor                without each root's physical floor (floor.ts)
//   npm run bench -- --no-arm64                without the seed forest's arm64 build (qemu-user) beside amd64's
//   npm run bench -- --no-results              print only; --write-docs: also regenerate docs/performance.md
//
// lvh: LVH=/path/to/lvh, else `lvh` on PATH; without it, its rows say absent
// and there is no ratio. libguestfs (lvh's, and the guestfs backend's) runs
// under KVM only where the provider's probe says KVM guests start; there,
// each libguestfs builder is sampled under KVM and under TCG, two rows.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { whichTool } from "../provider/builder/run/host";
import { REPO } from "../test/e2e/harness";
import { type Baseline, prepareBaseline } from "./baseline";
import { PAGE, generatedPage } from "./docs";
import { measureFloors } from "./floor";
import { namedForest } from "./forests";
import { measureLayering } from "./layering";
import { commitOf, describeMachine, fileSha256, lvhVersion } from "./machine";
import { plannedBuilders } from "./plan";
import { renderFull } from "./render";
import { type Builder, RESULTS_FORMAT, type Results, resultsBaseName, type Tool } from "./results";
import { mustBeCold, type Plan, sampleForest, upSequence } from "./samples";

const TOOLS: Tool[] = ["lvh", "guestfs", "direct"];
const FORESTS = ["seed", "bootable", "smoke", "ci", "kind"];

/** LVH, else lvh on PATH; undefined when there is none. */
function findLvh(): string | undefined {
  if (process.env.LVH) {
    if (!fs.existsSync(process.env.LVH)) throw new Error(`LVH=${process.env.LVH}: no such file`);
    return path.resolve(process.env.LVH);
  }
  return whichTool("lvh");
}

function conditions(plan: Plan, floor: boolean): string[] {
  return [
    `Every builder: ${plan.samples} cold sample(s) with empty package caches (no downloaded package, no package list: lvh keeps none), ` +
      "interleaved: in each round every builder once, the order rotated from round to round.",
    "Each sample a fresh stack with an empty cache of built images and root stages and no registry; the bench checked that each of ours " +
      "built every image itself (source \"built\", each root through its own mmdebstrap) and that lvh wrote every image.",
    "Each sample's time ends once `sync` has returned after it (everything written on the disk), and starts once earlier writes reached the disk.",
    "Ratios: lvh's median over the builder's, both without our boot check (qemu from the image's own disk, which lvh does not do): the same work.",
    ...(plan.builders.some((b) => b.arch) ? ["direct (arm64): the same images built for arm64 on this x86_64 host (vm-images:arch arm64): " +
      "the package scripts, actions and apt of the images run through qemu-user; empty package caches only, and no ratio against lvh, which builds the host's architecture."] : []),
    ...(plan.warm ? ["Warm rows: our package caches (the user's) after an untimed cold `up` of the forest with the direct backend; " +
      "the edit rows come from the stack of each builder's first warm sample."] : []),
    ...(floor ? ["Floor: after a forest's samples, each root's packages (those an untimed build of it alone downloads into empty caches) " +
      "fetched from the same mirror into an empty directory (curl, 8 at a time), then unpacked (dpkg-deb -x, one per core at a time), each timed by itself until `sync` returned."] : []),
  ];
}

async function main() {
  const args = process.argv.slice(2);
  const value = (flag: string) => args.find((a, i) => args[i - 1] === flag || a.startsWith(`${flag}=`))?.replace(`${flag}=`, "");
  const list = (flag: string, allowed: string[]) => {
    const names = value(flag)?.split(",");
    for (const n of names ?? []) if (!allowed.includes(n)) throw new Error(`${flag}: unknown ${n} (${allowed.join(", ")})`);
    return names;
  };
  const smoke = args.includes("--smoke");
  const wanted = smoke ? ["direct"] : list("--backends", TOOLS) ?? TOOLS;
  const coldOnly = list("--cold-only", TOOLS) ?? [];
  const only = smoke ? ["smoke"] : list("--forests", FORESTS);
  if (args.includes("--small") && !only?.includes("kind")) throw new Error("--small: only with --forests kind");
  const samples = smoke ? 1 : Number(value("--samples") ?? 3);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`--samples: a whole number from 1, not ${value("--samples")}`);
  const baselineRef = value("--baseline");
  const baseline = baselineRef === undefined ? undefined : prepareBaseline(baselineRef);
  try {
    const started = new Date().toISOString();
    const forests = (only ?? ["seed", "bootable"]).filter((n) => ["seed", "bootable", "smoke"].includes(n)).map(namedForest);
    const lvh = wanted.includes("lvh") && forests.length ? findLvh() : undefined;
    const machine = await describeMachine(os.tmpdir());
    const arm64 = !smoke && !args.includes("--no-arm64") && process.arch === "x64";
    const builders = plannedBuilders(wanted, lvh, machine.kvm, process.env.LIBGUESTFS_BACKEND_SETTINGS !== undefined, baseline, arm64);
    // The edits with one builder of each of ours: the first acceleration of a libguestfs one.
    const edits = ["guestfs", "direct"].filter((t) => !coldOnly.includes(t)).map((t) => builders.find((b) => b.tool === t && !b.baseline && !b.arch)?.id).filter((id) => id !== undefined);
    const plan: Plan = { builders, samples, warm: !args.includes("--no-warm"), edits, lvh, nodeModules: Object.fromEntries(builders.filter((b) => b.baseline).map((b) => [b.id, baseline!.nodeModules])) };
    const warmUp = async (f: typeof forests[number]) => {
      await upSequence({ id: "direct (untimed warm-up)", tool: "direct", accel: "none" }, f, {}, false);
    };
    const floor = !smoke && !args.includes("--no-floor") && wanted.includes("direct");
    const results: Results = {
      format: RESULTS_FORMAT, ...commitOf(REPO), started, finished: "", args, samples, machine,
      lvh: lvh ? { from: process.env.LVH ? "LVH" : "PATH", version: lvhVersion(lvh), sha256: fileSha256(lvh) } : undefined, builders, forests: [], conditions: conditions(plan, floor),
    };
    for (const f of forests) {
      const measured = await sampleForest(plan, f, warmUp);
      if (floor) measured.floors = await measureFloors(f);
      results.forests.push(measured);
    }
    if (wanted.includes("direct") && (!only || only.includes("ci"))) {
      const ci = namedForest("ci");
      const direct: Builder = { id: "direct", tool: "direct", accel: "none" };
      const [serial, parallel] = [(await upSequence(direct, ci, { VM_IMAGES_PARALLEL: "1" }, false)).cold, (await upSequence(direct, ci, { VM_IMAGES_PARALLEL: "2" }, false)).cold];
      for (const u of [serial, parallel]) mustBeCold(direct, ci, u, "ci forest");
      results.ci = { serial, parallel };
    }
    results.finished = new Date().toISOString();
    if (results.forests.length || results.ci) save(results, smoke || args.includes("--no-results"), args.includes("--write-docs"));
    // Not in the default set: upwards of 25 minutes of builds and pulls (layering.ts).
    if (wanted.includes("direct") && only?.includes("kind")) await measureLayering(samples, args.includes("--small"));
  } finally {
    baseline?.dispose();
  }
}

/** Print the run; unless told not to, write its results file and rendering (and the docs, with --write-docs). */
function save(results: Results, printOnly: boolean, writeDocs: boolean): void {
  const base = resultsBaseName(results);
  console.log(renderFull(results, `${base}.json`));
  if (printOnly) return;
  const dir = path.join(REPO, "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  const json = path.join(dir, `${base}.json`);
  if (fs.existsSync(json)) console.error(`bench: replacing ${path.relative(REPO, json)} (a run of the same commit that day)`);
  fs.writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, `${base}.md`), `${renderFull(results, `${base}.json`)}\n`);
  console.error(`bench: wrote ${path.relative(REPO, json)} and its .md`);
  if (writeDocs) {
    fs.writeFileSync(PAGE, generatedPage(fs.readFileSync(PAGE, "utf8")));
    console.error(`bench: regenerated ${path.relative(REPO, PAGE)} from it`);
  } else {
    console.error("bench: `node dist/bench/docs.js` puts its figures into docs/performance.md");
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`bench: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}
