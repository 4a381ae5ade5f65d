// The build host's side of an action: local paths resolved against the
// images file's directory and confined again as the build reads them (the
// check at preview may be long past, and a link may have changed since),
// and the kernel found in a kernel install dir.
import * as fs from "node:fs";
import * as path from "node:path";
import { type ActionContext, localPathsOf } from "../../actions";
import type { ImageConfig } from "../../model/config";
import { confinedHostPath } from "../../model/hostpaths";

/** lvh's rule: a kernel install directory holds exactly one boot/vmlinuz-* file. */
export function kernelIn(installDir: string): string {
  const boot = path.join(installDir, "boot");
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(boot, { withFileTypes: true });
  } catch {
    throw new Error(`install-kernel: ${boot} does not exist; expected a kernel install directory with boot/vmlinuz-*`);
  }
  const kernels = entries.filter((e) => e.isFile() && e.name.startsWith("vmlinuz-")).map((e) => e.name);
  if (kernels.length !== 1) {
    throw new Error(`install-kernel: expected exactly one boot/vmlinuz-* in ${installDir}, found ${kernels.length ? kernels.join(", ") : "none"}`);
  }
  return kernels[0];
}

/** What the contexts of a build's actions need: its image, and where its local paths may lead. */
export interface ActionHost {
  image: ImageConfig;
  /** Directory that relative local paths of actions are resolved against. */
  baseDir: string;
  /** Directories besides baseDir that local paths may lead to (the hostPaths setting). */
  hostPaths: readonly string[];
}

/**
 * The contexts the image's actions are carried out in, by index. Each
 * resolves a local path of its action to the link-free path the build
 * reads, or throws naming the image, the action and the path.
 */
export function actionContexts(b: ActionHost): (index: number) => ActionContext {
  let scratch = 0;
  const roots = { baseDir: b.baseDir, allowed: b.hostPaths };
  return (index) => {
    const action = b.image.actions[index];
    return {
      resolve: (p) => {
        const field = localPathsOf(action).find((f) => f.path === p);
        if (!field) throw new Error(`actions[${index}] (${action.type}) reads ${p}, which is none of its local path fields`);
        return confinedHostPath(p, field.throughLinks, roots, { image: b.image.name, action: index, type: action.type, field: field.field });
      },
      kernelIn,
      scratch: (name) => `/tmp/vm-images-${scratch++}-${name}`,
      modeOf: (file) => {
        const st = fs.statSync(file);
        return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      },
    };
  };
}
