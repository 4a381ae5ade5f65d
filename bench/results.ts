// A bench run's raw results, as written to bench/results/<date>-<commit>.json:
// every sample of every builder (with its round, its place in the round and
// its conditions), the machine, each builder's acceleration, the edit runs.
// Pure types and checks, plus reading the results directory; nothing here
// runs a build.
import * as fs from "node:fs";
import * as path from "node:path";

export const RESULTS_FORMAT = "vm-images-bench/1";

export type Tool = "lvh" | "guestfs" | "direct";
/** "empty": no downloaded package, no package list; "warm": the user's package caches, filled by an untimed warm-up. */
export type Condition = "empty" | "warm";

export interface Builder {
  /** As rows name it, e.g. "lvh (tcg)", "direct". */
  id: string;
  tool: Tool;
  /** libguestfs's acceleration (kvm or tcg); "none" for the direct backend, which starts no VM to build. */
  accel: string;
  /** Why it was not measured (no lvh found): its rows say so and it has no ratio. */
  absent?: string;
  /** The direct backend of another commit (--baseline). */
  baseline?: { ref: string; commit: string };
  /** A foreign architecture the images are built for (vm-images:arch), through qemu-user; unset: the host's. */
  arch?: string;
  /** The forests it is sampled on (unset: all); it has no warm rounds, and no ratio against lvh (which builds the host's architecture). */
  forests?: string[];
}

export interface ImageSample {
  seconds: number;
  source: string;
  steps: Record<string, number>;
  accel: string;
  /** When its outputs were made: the same in two runs when the second left the image alone. */
  builtAt?: string;
}

/** One `up` (or one lvh build): the whole time the user waits, the flush of its writes included. */
export interface UpRun {
  seconds: number;
  /** Of `seconds`, the final flush (sync) of everything written. */
  flushSeconds: number;
  peakKiB: number;
  /** Each image's own figures from the stack's outputs; empty for lvh. */
  images: Record<string, ImageSample>;
}

export interface Sample extends UpRun {
  builder: string;
  condition: Condition;
  /** 0-based round; in each round every builder runs once. */
  round: number;
  /** Its place in the round (0 first): the order rotates from round to round. */
  position: number;
  /** Of `seconds`, our boot checks (qemu from the image's disk), which lvh does not do; ratios leave them out. */
  bootCheckSeconds: number;
}

/** One builder's edit sequence on one stack, after a cold up with warm package caches. */
export interface EditRuns {
  builder: string;
  cold: UpRun;
  /** "no-op", "child-only", "root action-only", "revert", as measured. */
  runs: Record<string, UpRun>;
}

/** A root image's physical floor here: its packages downloaded, and unpacked, each by itself. */
export interface Floor {
  image: string;
  debs: number;
  bytes: number;
  downloadSeconds: number;
  unpackSeconds: number;
}

export interface ForestResult {
  name: string;
  /** The images the forest names, each of which every cold sample must have built. */
  images: string[];
  samples: Sample[];
  edits: EditRuns[];
  /** Of each root image (absent with --no-floor). */
  floors?: Floor[];
}

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  /** Where the builds wrote: the file system of the temporary directory (its path is not kept). */
  disk: { source: string; fstype: string; model?: string; rotational?: boolean };
  /** The KVM probe's verdict (provider/builder/boot/accel.ts). */
  kvm: "kvm" | "tcg";
}

export interface Results {
  format: typeof RESULTS_FORMAT;
  commit: string;
  /** Uncommitted changes in the checkout that ran. */
  dirty: boolean;
  started: string;
  finished: string;
  args: string[];
  /** Samples per builder and condition. */
  samples: number;
  machine: Machine;
  /** Which lvh (from LVH or PATH; its path is not kept), what it says its version is, and the binary's sha256. */
  lvh?: { from: "LVH" | "PATH"; version?: string; sha256?: string };
  builders: Builder[];
  forests: ForestResult[];
  /** The ci stack's forest, direct, warm package caches, one and two builds at a time. */
  ci?: { serial: UpRun; parallel: UpRun };
  /** What held for every sample, in words. */
  conditions: string[];
}

/** bench/results/<YYYY-MM-DD>-<short commit>.json (and .md beside it). */
export function resultsBaseName(r: Pick<Results, "started" | "commit">): string {
  return `${r.started.slice(0, 10)}-${r.commit.slice(0, 12)}`;
}

/** Parse a results file's text, or say what is wrong with it. */
export function parseResults(text: string, name = "results"): Results {
  const r = JSON.parse(text) as Results;
  if (r.format !== RESULTS_FORMAT) throw new Error(`${name}: format ${JSON.stringify(r.format)}, not ${RESULTS_FORMAT}`);
  for (const key of ["commit", "started", "finished", "machine", "builders", "forests"] as const) {
    if (r[key] === undefined) throw new Error(`${name}: no ${key}`);
  }
  return r;
}

/** Of several results, the latest: by finishing time, then by name. */
export function latest(all: { name: string; results: Results }[]): { name: string; results: Results } | undefined {
  return [...all].sort((a, b) => a.results.finished.localeCompare(b.results.finished) || a.name.localeCompare(b.name)).pop();
}

/** Every results file of the directory (other files, such as raw .txt outputs, are left alone). */
export function readResultsDir(dir: string): { name: string; results: Results }[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => /^\d{4}-\d{2}-\d{2}-[\w.-]+\.json$/.test(f)).sort()
    .map((name) => ({ name, results: parseResults(fs.readFileSync(path.join(dir, name), "utf8"), name) }));
}
