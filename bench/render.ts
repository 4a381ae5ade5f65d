// A results file in Markdown: what the docs quote (the run, the machine,
// each builder's acceleration; per forest the like-for-like cold table, then
// the warm-cache one, then the edits) and, for the file beside the JSON, every
// sample and the cold steps too. Pure: the same results give the same text.
import type { EditRuns, ForestResult, ImageSample, Results, UpRun } from "./results";
import { archRatios, floorRows, lvhBuilders, median, rows, type Row } from "./summary";

export const fmt = (n: number | undefined) => (n === undefined ? "-" : n.toFixed(1));
export const secs = (n: number | undefined) => (n === undefined ? "-" : `${fmt(n)} s`);
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

/** What the docs hold between the markers while no results file exists. */
export const NO_RESULTS = "No results file yet: `LVH=/path/to/lvh npm run bench` writes one to bench/results/, then `node dist/bench/docs.js` fills this in.";

function machine(r: Results): string[] {
  const m = r.machine;
  const disk = `${m.disk.source} (${m.disk.fstype}${m.disk.model ? `, ${m.disk.model}` : ""}` +
    `${m.disk.rotational === undefined ? "" : m.disk.rotational ? ", rotational as the kernel reports it" : ", non-rotational as the kernel reports it"})`;
  const kvm = m.kvm === "kvm"
    ? "the KVM probe found KVM guests start here: libguestfs (lvh's and the guestfs backend's) ran under KVM in the rows marked kvm"
    : "the KVM probe found no working KVM here: libguestfs (lvh's and the guestfs backend's) ran under TCG, software emulation, so there is no KVM row (on a host with working KVM it is faster)";
  const accel = r.builders.map((b) => `${b.id} ${b.absent ? "absent" : b.tool === "direct" ? "none (no VM to build)" : b.accel}`).join(", ");
  return [
    `Run of ${r.started.slice(0, 10)}, commit ${r.commit.slice(0, 12)}${r.dirty ? " with uncommitted changes" : ""}, ` +
      `\`npm run bench${r.args.length ? ` -- ${r.args.join(" ")}` : ""}\`${r.lvh ? `, lvh ${r.lvh.version ?? "(version unknown)"}${r.lvh.sha256 ? ` (binary sha256:${r.lvh.sha256.slice(0, 12)})` : ""}` : ""}.`,
    "",
    `Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, kernel ${m.kernel}; builds written to ${disk}; ${kvm}.`,
    "",
    `Acceleration of each builder: ${accel}.`,
    "",
    ...r.conditions.map((c) => `- ${c}`),
  ];
}

function coldTable(r: Results, forest: ForestResult, condition: "empty" | "warm"): string[] {
  const table = rows(r, forest, condition);
  if (!table.length) return [];
  const lvh = lvhBuilders(r).map((b) => b.id);
  const title = condition === "empty"
    ? `**${forest.name}**: cold \`up\`, every builder with empty package caches (like for like)`
    : `**${forest.name}**: cold \`up\`, our package caches warm (lvh keeps none: its ratios use its empty-cache median)`;
  const cell = (row: Row) => (row.builder.absent ? `absent: ${row.builder.absent}` : row.times.map(fmt).join(", "));
  return [
    title, "",
    `| builder | acceleration | samples (s) | median |${lvh.map((l) => ` ${l} / builder |`).join("")}`,
    `|---|---|---|---|${lvh.map(() => "---|").join("")}`,
    ...table.map((row) => `| ${row.builder.id} | ${row.builder.absent ? "-" : row.builder.accel} | ${cell(row)} | ${secs(row.median)} |` +
      lvh.map((l) => ` ${row.ratios[l] === undefined ? "-" : row.ratios[l].toFixed(1)} |`).join("")),
    "",
  ];
}

/** An image's figures in an edit run: unchanged when its outputs are those of the run before. */
function imageCell(image: ImageSample | undefined, before: ImageSample | undefined, cold: ImageSample | undefined): string {
  if (!image) return "-";
  const same = before && (image.builtAt !== undefined ? image.builtAt === before.builtAt
    : image.seconds === before.seconds && image.source === before.source);
  if (same) return "unchanged";
  const share = cold && cold.seconds > 0 ? `, ${((image.seconds / cold.seconds) * 100).toFixed(1)}% of its cold ${secs(cold.seconds)}` : "";
  return `${secs(image.seconds)} ${image.source}${share}`;
}

function editTable(forest: ForestResult, e: EditRuns): string[] {
  const names = forest.images;
  const runs: [string, UpRun][] = [["cold", e.cold], ...Object.entries(e.runs)];
  return [
    `**${forest.name}**: edits with ${e.builder}, our package caches warm, one sample: the whole \`up\` the user waits for, then each image's own build`, "",
    `| run | whole \`up\` | peak memory |${names.map((n) => ` ${n} |`).join("")}`,
    `|---|---|---|${names.map(() => "---|").join("")}`,
    ...runs.map(([run, u], i) => `| ${run} | ${secs(u.seconds)} | ${mib(u.peakKiB)} |` +
      names.map((n) => ` ${i === 0 ? `${secs(u.images[n]?.seconds)} ${u.images[n]?.source ?? ""}`.trim() : imageCell(u.images[n], runs[i - 1][1].images[n], e.cold.images[n])} |`).join("")),
    "",
  ];
}

/** Target: a foreign architecture's forest within this multiple of the host's. */
export const ARCH_TARGET = 4;

/** Target: our root build within this multiple of its floor. */
export const FLOOR_TARGET = 1.5;

function floorTable(r: Results, forest: ForestResult): string[] {
  const table = floorRows(r, forest);
  if (!table.length) return [];
  return [
    `**${forest.name}**: each root image's physical floor here (its packages downloaded, then unpacked, each by itself), ` +
      `against its own build with empty package caches without the boot check (target: within ${FLOOR_TARGET}x)`, "",
    "| root image | .debs | MiB | download | unpack | floor | builder | own build (median) | multiple of the floor |",
    "|---|---|---|---|---|---|---|---|---|",
    ...table.flatMap((row) => (row.builders.length ? row.builders : [undefined]).map((b) =>
      `| ${row.floor.image} | ${row.floor.debs} | ${fmt(row.floor.bytes / 2 ** 20)} | ${secs(row.floor.downloadSeconds)} | ${secs(row.floor.unpackSeconds)} | ` +
      `${secs(row.seconds)} | ${b?.id ?? "-"} | ${secs(b?.median)} | ${b ? b.multiple.toFixed(1) : "-"} |`)),
    "",
  ];
}

function baselines(r: Results, forest: ForestResult): string[] {
  const empty = rows(r, forest, "empty");
  const direct = empty.find((row) => row.builder.tool === "direct" && !row.builder.baseline)?.median;
  return empty.filter((row) => row.builder.baseline && row.median !== undefined && direct !== undefined)
    .map((row) => `${forest.name}: ${row.builder.id} / direct: ${(row.median! / direct!).toFixed(2)} (medians, empty package caches; above 1: this checkout is faster)`);
}

/** What the docs' architectures section holds while no results file has another architecture. */
export const NO_ARCH_RESULTS = "No results file with another architecture yet: `npm run bench` on an x86_64 host builds the seed forest for arm64 too (`--no-arm64` leaves it out).";

/** The median of each step of an arch builder's cold samples, per image: where the emulated time goes. */
function archSteps(forest: ForestResult, builder: string): string[] {
  const samples = forest.samples.filter((s) => s.builder === builder && s.condition === "empty");
  return forest.images.flatMap((image) => {
    const steps = [...new Set(samples.flatMap((s) => Object.keys(s.images[image]?.steps ?? {})))];
    const cells = steps.map((step) => `${step} ${fmt(median(samples.map((s) => s.images[image]?.steps[step] ?? 0)))}`);
    return cells.length ? [`- ${forest.name}: ${builder}: ${image}: ${cells.join(", ")} (medians, s)`] : [];
  });
}

/** The docs' architectures section: another architecture's rows beside the host's, their ratio, and where its time goes. */
export function renderArch(r: Results, file: string, linkDir = "../bench/results/"): string {
  const out = [`From [${file}](${linkDir}${file}), run of ${r.started.slice(0, 10)}, commit ${r.commit.slice(0, 12)}, ` +
    `on ${r.machine.cores} cores (${r.machine.cpuModel}), kernel ${r.machine.kernel}.`, ""];
  for (const f of r.forests) {
    const ratios = archRatios(r, f);
    if (!ratios.length) continue;
    const table = rows(r, f, "empty").filter((row) => row.builder.tool === "direct" && !row.builder.baseline);
    out.push(`**${f.name}**: cold \`up\`, empty package caches, the direct backend for amd64 and for arm64 (every arm64 binary under qemu-user)`, "",
      "| builder | samples (s) | median |", "|---|---|---|",
      ...table.map((row) => `| ${row.builder.id} | ${row.times.map(fmt).join(", ")} | ${secs(row.median)} |`), "",
      ...ratios.map((a) => `- ${a.builder} / direct (amd64): ${a.ratio.toFixed(1)}x (target: at most ${ARCH_TARGET}x)`),
      ...ratios.flatMap((a) => archSteps(f, a.builder)), "");
  }
  return out.join("\n").trimEnd();
}

/** The part the docs quote. */
export function renderSummary(r: Results, file: string, linkDir = "../bench/results/"): string {
  const md = file.replace(/\.json$/, ".md");
  const out = [`From [${file}](${linkDir}${file}) (every sample: [${md}](${linkDir}${md})).`, "", ...machine(r), ""];
  for (const f of r.forests) out.push(...coldTable(r, f, "empty"));
  for (const f of r.forests) out.push(...coldTable(r, f, "warm"));
  for (const f of r.forests) for (const e of f.edits) out.push(...editTable(f, e));
  for (const f of r.forests) out.push(...floorTable(r, f));
  const arch = r.forests.flatMap((f) => archRatios(r, f));
  if (arch.length) {
    out.push(...arch.map((a) => `- ${a.forest}: ${a.builder} ${secs(a.median)} against direct (amd64) ${secs(a.hostMedian)}: ${a.ratio.toFixed(1)}x as long ` +
      `(medians, empty package caches; target: at most ${ARCH_TARGET}x)`), "");
  }
  const base = r.forests.flatMap((f) => baselines(r, f));
  if (base.length) out.push(...base.map((b) => `- ${b}`), "");
  if (r.ci) out.push(`The ci stack's forest, direct, cold, package caches warm: one build at a time ${secs(r.ci.serial.seconds)}, two at a time ${secs(r.ci.parallel.seconds)}.`, "");
  return out.join("\n").trimEnd();
}

/** Every sample, in the order they ran. */
function samplesTable(r: Results): string[] {
  return [
    "| forest | round | place | builder | caches | whole | of which flush | of which boot check | compared | peak memory |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...r.forests.flatMap((f) => [...f.samples].sort((a, b) => (a.condition === b.condition ? 0 : a.condition === "empty" ? -1 : 1) || a.round - b.round || a.position - b.position)
      .map((s) => `| ${f.name} | ${s.round + 1} | ${s.position + 1} | ${s.builder} | ${s.condition} | ${secs(s.seconds)} | ${secs(s.flushSeconds)} | ` +
        `${secs(s.bootCheckSeconds)} | ${secs(s.seconds - s.bootCheckSeconds)} | ${mib(s.peakKiB)} |`)),
    "",
  ];
}

/** The steps of each builder's first cold sample under each condition. */
function stepsTable(r: Results): string[] {
  const lines = ["| forest | builder | caches | image | step | seconds |", "|---|---|---|---|---|---|"];
  for (const f of r.forests) {
    for (const b of r.builders) {
      for (const condition of ["empty", "warm"] as const) {
        const s = f.samples.find((x) => x.builder === b.id && x.condition === condition);
        for (const [image, i] of Object.entries(s?.images ?? {})) {
          for (const [step, t] of Object.entries(i.steps)) lines.push(`| ${f.name} | ${b.id} | ${condition} | ${image} | ${step} | ${fmt(t)} |`);
        }
      }
    }
  }
  return [...lines, ""];
}

/** The steps of each image an edit run built or took again (not those it left alone), as lines. */
function editSteps(r: Results): string[] {
  return r.forests.flatMap((f) => f.edits.flatMap((e) => {
    const runs: [string, UpRun][] = [["cold", e.cold], ...Object.entries(e.runs)];
    return runs.slice(1).flatMap(([run, u], i) => Object.entries(u.images)
      .filter(([n, img]) => imageCell(img, runs[i][1].images[n], undefined) !== "unchanged")
      .map(([n, img]) => `- ${f.name} ${e.builder}: ${run}: ${n}: ${secs(img.seconds)} ${img.source} (steps: ${Object.entries(img.steps).map(([s, t]) => `${s} ${fmt(t)}`).join(", ")})`));
  }));
}

/** The whole run: the summary, then every sample and the cold steps. */
export function renderFull(r: Results, file: string): string {
  const edits = editSteps(r);
  return [
    `# Bench results ${file.replace(/\.json$/, "")}`, "", renderSummary(r, file, ""), "",
    "## Every sample", "", ...samplesTable(r),
    "## Cold steps (each builder's first sample under each condition)", "", ...stepsTable(r),
    ...(edits.length ? ["## Steps of the edited images", "", ...edits, ""] : []),
  ].join("\n");
}
