// What the tests of stacks that share a registry have in common: a two-image
// forest whose child line can be edited, a byte comparison of image files,
// and a cache directory of a stack's own.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cacheDir } from "../../provider/builder/cache/dirs";

/** A 1G non-bootable root and a child whose one action writes `childLine`, in lvh's spelling. */
export function forest(childLine: string) {
  return [
    { name: "base.qcow2", image_size: "1G", bootable: false, packages: [] },
    { name: "child.qcow2", parent: "base.qcow2", packages: [], actions: [{ type: "run-command", op: { Cmd: `echo ${childLine} > /etc/child` } }] },
  ];
}

/** Whether two files have the same bytes. */
export const sameBytes = (a: string, b: string) => {
  try {
    execFileSync("cmp", ["-s", a, b]);
    return true;
  } catch {
    return false;
  }
};

/** A cache directory of its own that shares only the built tools (CLI, crane): no packages, no probes. */
export function separateCache(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-cache-"));
  for (const tool of ["pulumi-cli", "crane"]) fs.symlinkSync(path.join(cacheDir(), tool), path.join(dir, tool));
  return dir;
}
