// The cgroup of one image's build with the direct backend: every process of
// its sandbox runs joins it (sh/sandbox-run.sh writes itself into it before
// it starts anything), so the kernel bounds their memory, their number and
// their CPU time together, whatever they do as root inside. cgroup v2 (one
// directory) or v1 (one directory per controller: memory, pids, cpu). The
// directory sits where this process's own cgroup is (v1), or beside it (v2,
// whose controllers a cgroup that holds processes cannot hand down), so a
// CI job's own bounds still hold. Named after the building process: a
// later build removes those of a process that died.
import * as fs from "node:fs";
import * as path from "node:path";
import { alive } from "../run/proc";

export interface CgroupLimits {
  memoryBytes: number;
  tasks: number;
  /** CPUs, as a quota of CPU time per period; undefined: no quota. */
  cpus?: number;
}

const ROOT = "/sys/fs/cgroup";
const NAME = /^vm-images-(\d+)-\d+$/;
let serial = 0;

/** This process's cgroup in a hierarchy: a v1 controller's, or "" for v2's. */
function ownPath(controller: string): string | undefined {
  for (const line of fs.readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m && (controller === "" ? m[1] === "" : m[1].split(",").includes(controller))) return m[2];
  }
  return undefined;
}

const read = (file: string) => fs.readFileSync(file, "utf8");
const write = (file: string, value: string | number) => fs.writeFileSync(file, String(value));

/** A counter of a flat-keyed file such as memory.events ("oom_kill 1"), 0 when absent. */
function counter(file: string, key: string): number {
  try {
    const m = new RegExp(`^${key} (\\d+)$`, "m").exec(read(file));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Remove a cgroup; false if it still holds processes after a few seconds.
 * Its processes are a sandbox's, which end with their PID namespace when
 * the run ends or is killed: they are waited for, never signalled here.
 */
async function removeDir(dir: string): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    try {
      fs.rmdirSync(dir);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Remove the build cgroups under `parent` whose building process no longer runs. */
async function sweep(parent: string): Promise<void> {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(parent);
  } catch {
    return;
  }
  for (const entry of entries) {
    const m = NAME.exec(entry);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) await removeDir(path.join(parent, entry));
  }
}

/** The directory of a v1 controller's hierarchy this process is in (the hierarchy's root in a container that shows only its own). */
function v1Parent(controller: string): string {
  const own = path.join(ROOT, controller, ownPath(controller) ?? "/");
  return fs.existsSync(own) ? own : path.join(ROOT, controller);
}

export class BuildCgroup {
  private constructor(
    readonly version: 1 | 2,
    /** v2: one directory; v1: the memory, pids (and cpu) directories, in that order. */
    readonly dirs: string[],
  ) {}

  /** A new cgroup with these limits, or why none could be made (no controller, nothing writable). */
  static async create(limits: CgroupLimits): Promise<BuildCgroup | string> {
    const name = `vm-images-${process.pid}-${++serial}`;
    if (fs.existsSync(path.join(ROOT, "cgroup.controllers"))) return BuildCgroup.v2(name, limits);
    const made: string[] = [];
    try {
      for (const ctrl of limits.cpus ? ["memory", "pids", "cpu"] : ["memory", "pids"]) {
        const parent = v1Parent(ctrl);
        await sweep(parent);
        const dir = path.join(parent, name);
        fs.mkdirSync(dir);
        made.push(dir);
        if (ctrl === "memory") {
          write(path.join(dir, "memory.limit_in_bytes"), limits.memoryBytes);
          // With swap accounting, swap counts too: else a swapping build would pass its bound.
          if (fs.existsSync(path.join(dir, "memory.memsw.limit_in_bytes"))) write(path.join(dir, "memory.memsw.limit_in_bytes"), limits.memoryBytes);
        } else if (ctrl === "pids") {
          write(path.join(dir, "pids.max"), limits.tasks);
        } else {
          const period = Number(read(path.join(dir, "cpu.cfs_period_us")));
          write(path.join(dir, "cpu.cfs_quota_us"), Math.round(limits.cpus! * period));
        }
      }
      return new BuildCgroup(1, made);
    } catch (err) {
      for (const dir of made.reverse()) await removeDir(dir);
      return `cgroup v1: ${(err as Error).message}`;
    }
  }

  private static async v2(name: string, limits: CgroupLimits): Promise<BuildCgroup | string> {
    const own = path.join(ROOT, ownPath("") ?? "/");
    // Our own cgroup if it is the root (which may hold processes), else its parent.
    const parent = own === ROOT || own === `${ROOT}/` ? ROOT : path.dirname(own);
    const wanted = ["memory", "pids", ...(limits.cpus ? ["cpu"] : [])];
    const dir = path.join(parent, name);
    try {
      await sweep(parent);
      const enabled = read(path.join(parent, "cgroup.subtree_control")).split(/\s+/);
      const missing = wanted.filter((c) => !enabled.includes(c));
      if (missing.length) write(path.join(parent, "cgroup.subtree_control"), missing.map((c) => `+${c}`).join(" "));
      fs.mkdirSync(dir);
      write(path.join(dir, "memory.max"), limits.memoryBytes);
      if (fs.existsSync(path.join(dir, "memory.swap.max"))) write(path.join(dir, "memory.swap.max"), 0);
      write(path.join(dir, "pids.max"), limits.tasks);
      if (limits.cpus) write(path.join(dir, "cpu.max"), `${Math.round(limits.cpus * 100_000)} 100000`);
      return new BuildCgroup(2, [dir]);
    } catch (err) {
      await removeDir(dir);
      return `cgroup v2 under ${parent}: ${(err as Error).message}`;
    }
  }

  /** Which bounds the kernel enforced so far: a process killed for want of memory, a fork refused for want of tasks. */
  reached(): { memory: boolean; tasks: boolean } {
    const [mem, pids] = this.version === 2 ? [this.dirs[0], this.dirs[0]] : [this.dirs[0], this.dirs[1]];
    const oomFile = this.version === 2 ? "memory.events" : "memory.oom_control";
    return { memory: counter(path.join(mem, oomFile), "oom_kill") > 0, tasks: counter(path.join(pids, "pids.events"), "max") > 0 };
  }

  /** Remove it; the directories that would not go. */
  async remove(): Promise<string[]> {
    const left: string[] = [];
    for (const dir of [...this.dirs].reverse()) if (!(await removeDir(dir))) left.push(dir);
    return left;
  }
}
