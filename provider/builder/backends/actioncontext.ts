// The build host's side of an action: local paths resolved against the
// images file's directory, and the kernel found in a kernel install dir.
import * as fs from "node:fs";
import * as path from "node:path";
import type { ActionContext } from "../../actions";
import { resolveLocal } from "../../model/localinputs";

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

/** The context actions are carried out in, for an images file in `baseDir`. */
export function actionContext(baseDir: string): ActionContext {
  let scratch = 0;
  return {
    resolve: (p) => resolveLocal(baseDir, p),
    kernelIn,
    scratch: (name) => `/tmp/vm-images-${scratch++}-${name}`,
    modeOf: (file) => {
      const st = fs.statSync(file);
      return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    },
  };
}
