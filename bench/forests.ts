// The forests the bench builds and the edits it makes to them: the seed's
// (examples/seed), examples/bootable, examples/ci, and a tiny one for a quick
// check that the bench runs (`--smoke`, `--forests smoke`).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cacheDir } from "../provider/builder/cache/dirs";
import { REPO } from "../test/e2e/harness";

export const SUITE = "bookworm";

export interface Forest {
  name: string;
  /** Where the images file and the files its actions name are ("" for none). */
  dir: string;
  images: any[];
}

export function forestFrom(name: string, dir: string): Forest {
  return { name, dir, images: JSON.parse(fs.readFileSync(path.join(dir, "images.json"), "utf8")) };
}

export const SMOKE: Forest = {
  name: "smoke",
  dir: "",
  images: [
    { name: "base.img", image_size: "1G", bootable: false, packages: [], actions: [{ type: "run-command", op: { Cmd: "true" } }] },
    { name: "child.qcow2", parent: "base.img", packages: [] },
  ],
};

/** A forest by the name `--forests` gives. */
export function namedForest(name: string): Forest {
  return name === "smoke" ? SMOKE : forestFrom(name, path.join(REPO, "examples", name));
}

export function copyForest(forest: Forest, into: string, images: unknown[]): void {
  if (forest.dir) {
    for (const entry of fs.readdirSync(forest.dir)) fs.cpSync(path.join(forest.dir, entry), path.join(into, entry), { recursive: true });
  }
  fs.writeFileSync(path.join(into, "images.json"), `${JSON.stringify(images, null, 2)}\n`);
}

/** The edit of the root action-only rebuild: the first run-command of the first image does one thing more. */
export function editRootAction(images: any[]): any[] {
  const edited = JSON.parse(JSON.stringify(images));
  const action = edited[0].actions?.find((a: any) => a.type === "run-command");
  if (action) action.op.Cmd = `${action.op.Cmd} && touch /etc/bench-edited`;
  else edited[0].actions = [...(edited[0].actions ?? []), { type: "run-command", op: { Cmd: "touch /etc/bench-edited" } }];
  return edited;
}

/** The edit of the child-only rebuild: the last image gets one more package. */
export function editChild(images: any[]): any[] {
  const child = JSON.parse(JSON.stringify(images));
  child[child.length - 1].packages = [...(child[child.length - 1].packages ?? []), "jq"];
  return child;
}

/**
 * The per-user cache without its downloaded packages and package lists (the
 * built tools and host probes are shared): a build with it downloads every
 * package and list, as lvh always does. Removed by the caller.
 */
export function emptyPackageCaches(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-bench-packages-"));
  for (const entry of fs.readdirSync(cacheDir())) {
    if (entry !== "debs" && entry !== "apt-lists") fs.symlinkSync(path.join(cacheDir(), entry), path.join(dir, entry));
  }
  return dir;
}
