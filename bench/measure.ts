// What every measurement of the bench shares: medians, a command timed with
// the peak memory of its process tree and, inside its timed window, the
// flush of everything written (for every builder alike: lvh's tools flush
// inside their own time, and the direct backend builds with fsync a no-op),
// and the wait for earlier writes to reach the disk before a measured run.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fmt } from "./render";

export { fmt } from "./render";
export { median } from "./summary";

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

/** The kernel's dirty and under-writeback page cache, in KiB. */
function unwrittenKiB(): number {
  const meminfo = fs.readFileSync("/proc/meminfo", "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(meminfo)?.[1] ?? 0);
  return kib("Dirty") + kib("Writeback");
}

/**
 * Before each measured up: what earlier measurements wrote reaches the disk
 * first (lvh's images alone are several GB), so no measurement pays for
 * another's writeback. Reported when it took a while.
 */
export async function settle(label: string): Promise<void> {
  const started = Date.now();
  const before = unwrittenKiB();
  spawnSync("sync");
  while (unwrittenKiB() > 32 * 1024 && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 250));
  const seconds = (Date.now() - started) / 1000;
  if (seconds >= 1) console.error(`bench: ${label}: ${fmt(seconds)} s for ${fmt(before / 1024)} MiB of earlier writes to reach the disk`);
}

/**
 * Run a command, timing it and sampling the peak memory of its process tree.
 * The clock stops once `sync` has returned after it: everything it wrote is
 * on the disk (flushSeconds, of seconds).
 */
export function timed(cmd: string, args: string[], opts: { cwd?: string; env: NodeJS.ProcessEnv }): Promise<{ seconds: number; flushSeconds: number; peakKiB: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-6000)));
    let peakKiB = 0;
    const sampler = setInterval(() => (peakKiB = Math.max(peakKiB, treeRssKiB(child.pid!))), 500);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearInterval(sampler);
      if (code !== 0) return reject(new Error(`${path.basename(cmd)} ${args.slice(0, 3).join(" ")} exited ${code}\n${stderr.slice(-3000)}`));
      const flushStarted = Date.now();
      const sync = spawnSync("sync");
      if (sync.status !== 0) return reject(new Error(`sync exited ${sync.status}`));
      const ended = Date.now();
      resolve({ seconds: (ended - started) / 1000, flushSeconds: (ended - flushStarted) / 1000, peakKiB });
    });
  });
}
