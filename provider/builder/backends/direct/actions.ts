// The image's actions, in order, in the sandbox on its root file system;
// then, the last step, its ssh host keys made at first boot rather than
// baked in (where it has sshd), and what it has installed read for its SBOM.
import type { Step } from "../../run/steps";
import { applyAction, installedPackagesReport, type RootFs, sshHostKeysAtFirstBoot } from "../../sandbox/sandbox";
import { actionContexts } from "../actioncontext";
import type { BackendBuild } from "../backend";

/** The last step in the image, in both backends: its ssh host keys made at first boot, then its packages read. */
export const FINISH_STEP = "ssh host keys at first boot, installed packages";

export function actionSteps(b: BackendBuild, root: RootFs): Step[] {
  const finish: Step = {
    name: `${FINISH_STEP} (sandbox)`,
    do: async (ctx) => {
      b.facts.sshd = await sshHostKeysAtFirstBoot(root, ctx);
      b.facts.packagesReport = await installedPackagesReport(root, ctx);
    },
  };
  if (!b.image.actions.length) return [finish];
  return [{
    name: "run actions (sandbox)",
    do: async (ctx) => {
      const contextOf = actionContexts(b);
      for (const [i, action] of b.image.actions.entries()) await applyAction(root, action, ctx, contextOf(i));
    },
  }, finish];
}
