// The direct backend: the same images as the guestfs backend, without a VM.
// Root images (root.ts) come from mmdebstrap, derived images (derived.ts)
// from a copy of the parent's disk; guest code (package scripts, the
// actions) runs in the sandbox (../../sandbox/), and what writes into the
// disk as root runs with fsync and its kin as no-ops (../../sandbox/nosync.ts).
// A qcow2 image is the finished raw disk converted (disk.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import type { Step } from "../../run/steps";
import type { Backend, BackendBuild } from "../backend";
import { derivedSteps } from "./derived";
import { convertToQcow2 } from "./disk";
import { rootSteps } from "./root";

function steps(b: BackendBuild): Step[] {
  const disk = b.format === "raw" ? b.target : path.join(b.workDir, "disk.raw");
  const list = b.parentPath ? derivedSteps(b, disk) : rootSteps(b, disk);
  if (b.format === "qcow2") {
    list.push({
      name: "convert to qcow2 (qemu-img)",
      do: (ctx) => convertToQcow2(disk, b.target, ctx, b.parentPath !== undefined),
      cleanup: async () => fs.rmSync(disk, { force: true }),
    });
  }
  return list;
}

export const directBackend: Backend = { name: "direct", steps };
