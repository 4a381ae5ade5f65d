// The machine a run measured on, as the results file records it: cores, CPU,
// memory, kernel, the disk the builds wrote to, and whether KVM guests start
// (the provider's own probe); and the commit that ran.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import { kvmVerdict } from "../provider/builder/boot/accel";
import { cacheDir } from "../provider/builder/cache/dirs";
import { memoryLogger } from "../provider/builder/run/log";
import type { Machine } from "./results";

const out = (cmd: string, args: string[], cwd?: string) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd });
  return r.status === 0 ? r.stdout.trim() : undefined;
};

/** The file system `dir` is on: its device, type, and the disk's model and kind where the block device tells. */
function diskOf(dir: string): Machine["disk"] {
  const [source = "unknown", fstype = "unknown"] = (out("findmnt", ["-n", "-o", "SOURCE,FSTYPE", "-T", dir]) ?? "").split(/\s+/);
  const disk: Machine["disk"] = { source, fstype };
  if (source.startsWith("/dev/")) {
    const parent = out("lsblk", ["-n", "-d", "-o", "PKNAME", source]) || source.replace(/^\/dev\//, "");
    const [rota, ...model] = (out("lsblk", ["-n", "-d", "-o", "ROTA,MODEL", `/dev/${parent}`]) ?? "").split(/\s+/);
    if (rota === "0" || rota === "1") disk.rotational = rota === "1";
    if (model.join(" ").trim()) disk.model = model.join(" ").trim();
  }
  return disk;
}

export async function describeMachine(dir: string): Promise<Machine> {
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    disk: diskOf(dir),
    kvm: await kvmVerdict(cacheDir(), memoryLogger(), new AbortController().signal),
  };
}

/** The checked-out commit, and whether the work tree differs from it. */
export function commitOf(repo: string): { commit: string; dirty: boolean } {
  const commit = out("git", ["rev-parse", "HEAD"], repo) ?? "unknown";
  const status = out("git", ["status", "--porcelain", "--untracked-files=no"], repo);
  return { commit, dirty: status === undefined || status !== "" };
}

/** What `lvh --version` (else `lvh version`) says, if anything. */
export function lvhVersion(lvh: string): string | undefined {
  return (out(lvh, ["--version"]) ?? out(lvh, ["version"]))?.split("\n")[0] || undefined;
}

/** Modification times of the files under `dir` (two levels down), by base name. */
export function filesWritten(dir: string, depth = 2): Record<string, number> {
  const found: Record<string, number> = {};
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isFile()) found[e.name] = fs.statSync(p).mtimeMs;
    else if (e.isDirectory() && depth > 0) Object.assign(found, filesWritten(p, depth - 1));
  }
  return found;
}
