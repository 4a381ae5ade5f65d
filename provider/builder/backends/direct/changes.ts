// The direct backend's derived images, edited in place: the parent's disk,
// copied, is never mounted writable. Each sandbox run sees it through an
// overlay whose upper directory (in a file system of its own, no larger
// than the disk) takes every change (sh/sandbox-run.sh); the last step
// lists the changes and writes them into the disk's file system with
// debugfs (model/changes.ts makes the commands), then settles what the
// clock decided and checks the file system. What the child did not change
// keeps its blocks: a qcow2 overlay on the parent holds only the changes,
// and the same changes give the same bytes.
import * as fs from "node:fs";
import * as path from "node:path";
import { applyScript, debugfsErrors, parseGetfattr, parseLowerListing, parseUpperListing } from "../../../model/changes";
import { MINUTE, run } from "../../run/exec";
import type { BuildContext, Step } from "../../run/steps";
import type { RootFs } from "../../sandbox/sandbox";
import type { BackendBuild } from "../backend";
import { inMountNamespace } from "./disk";
import { cleanForRepack, settleClock } from "./reproducible";

/** Where a build's changes go: the directory the sandbox's overlay lives in (its upper directory's file system inside). */
export function changesDir(b: BackendBuild): string {
  return path.join(b.workDir, "changes");
}

/** The upper directory's file system, as large as the disk (sparse: only what is written takes room). */
export async function prepareChanges(dir: string, diskBytes: number, ctx: BuildContext): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const img = path.join(dir, "changes.img");
  fs.rmSync(img, { force: true });
  fs.writeFileSync(img, "");
  fs.truncateSync(img, diskBytes);
  await run("mke2fs", ["-q", "-F", "-t", "ext4", "-O", "^has_journal", "-E", "lazy_itable_init=1", img], {
    label: `${ctx.image} mke2fs`, log: ctx.log, signal: ctx.signal, timeoutMs: 5 * MINUTE,
  });
}

/** The changes read from the lists sh/changes-listing.sh wrote, with each attribute's value in a file of its own for debugfs. */
function readChanges(dir: string) {
  const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
  const upperRoot = read("upper.path").trim();
  const values = path.join(dir, "xattr-values");
  fs.mkdirSync(values, { recursive: true });
  let n = 0;
  const xattrs = new Map<string, { name: string; file: string }[]>();
  for (const [p, attrs] of parseGetfattr(read("xattrs.txt"), upperRoot)) {
    xattrs.set(p, attrs.map(({ name, value }) => {
      const file = path.join(values, String(n++));
      fs.writeFileSync(file, value);
      return { name, file };
    }));
  }
  return {
    upperRoot,
    lower: parseLowerListing(read("lower.list")),
    upper: parseUpperListing(read("upper.list"), read("devices.list"), xattrs),
  };
}

/** Write the runs' changes into the disk's file system (at `offset`), settle the clock's marks, and check it. */
export async function applyChanges(b: BackendBuild, disk: string, offset: number, epoch: number, ctx: BuildContext): Promise<void> {
  const dir = changesDir(b);
  const fsPath = `${disk}?offset=${offset}`;
  await inMountNamespace(ctx, "changes", "changes-listing.sh", [disk, String(offset), dir]);
  const { upperRoot, lower, upper } = readChanges(dir);
  const plan = applyScript(upper, lower, upperRoot, epoch);
  if (plan.skipped.length) ctx.log.line(ctx.image, `not written into the image (sockets, which nothing can use before it boots): ${plan.skipped.join(", ")}`);
  const commands = path.join(dir, "apply.debugfs");
  fs.writeFileSync(commands, plan.script);
  ctx.log.line(ctx.image, `${upper.length} changed entries, ${plan.script.split("\n").length - 1} debugfs commands`);
  const out = await inMountNamespace(ctx, "debugfs", "apply-changes.sh", [dir, fsPath, commands], { env: { E2FSPROGS_FAKE_TIME: String(epoch) }, capture: true });
  const errors = debugfsErrors(out);
  if (errors.length) {
    throw new Error(`writing the changes into the image failed: ${errors.slice(0, 5).join("; ")}${errors.length > 5 ? ` (and ${errors.length - 5} more)` : ""}`);
  }
  await settleClock(b.workDir, fsPath, epoch, offset > 0, ctx);
  // A file system debugfs left inconsistent fails here, not in a VM.
  await run("e2fsck", ["-f", "-n", fsPath], { label: `${ctx.image} e2fsck`, log: ctx.log, signal: ctx.signal, timeoutMs: 10 * MINUTE });
}

/** The last step of a derived image edited in place: what differs between builds emptied (in the sandbox), then the changes written. */
export function applyChangesStep(b: BackendBuild, disk: string, root: () => RootFs): Step {
  return {
    name: "write changes into the disk (debugfs)",
    do: async (ctx) => {
      const r = root();
      await cleanForRepack(r, ctx);
      await applyChanges(b, disk, r.disk!.offset, ctx.sourceDateEpoch!, ctx);
    },
  };
}
