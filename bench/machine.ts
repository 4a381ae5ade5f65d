// The machine a run measured on, as the results file records it: cores, CPU,
// memory, kernel, the disk the builds wrote to, and whether KVM guests start
// (the provider's own probe); and the commit that ran.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
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

/**
 * What `lvh --version` (else `lvh version`) says; else, for an lvh built
 * without a version stamped in, what its Go build information records
 * (`go version -m`: its module's version, and the commit it was built from
 * when it was built in a git checkout). Undefined when neither says.
 */
export function lvhVersion(lvh: string): string | undefined {
  const said = (out(lvh, ["--version"]) ?? out(lvh, ["version"]))?.split("\n")[0];
  if (said) return said;
  const info = out("go", ["version", "-m", lvh]);
  return info ? goBuildVersion(info) : undefined;
}

/** A binary's version as `go version -m` gives its build information: its module's version and its commit, where known. */
export function goBuildVersion(info: string): string | undefined {
  const field = (re: RegExp) => re.exec(info)?.[1];
  const mod = field(/^\s*mod\s+\S+\s+(\S+)/m);
  const revision = field(/^\s*build\s+vcs\.revision=(\S+)/m);
  const parts = [mod && mod !== "(devel)" ? mod : undefined, revision ? `commit ${revision.slice(0, 12)}` : undefined].filter(Boolean);
  return parts.length ? `${parts.join(", ")} (from its Go build information)` : undefined;
}

/** The sha256 of a file (the lvh binary measured), which names it whatever it says of itself. */
export function fileSha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
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
