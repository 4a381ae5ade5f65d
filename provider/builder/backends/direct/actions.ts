// The image's actions, in order, in the sandbox on its root file system;
// then, the last steps, its ssh host keys made at first boot rather than
// baked in (where it has sshd), and what it has installed read for its SBOM.
import type { Step } from "../../run/steps";
import { applyAction, installedPackagesReport, type RootFs, sshHostKeysAtFirstBoot } from "../../sandbox/sandbox";
import { actionContexts } from "../actioncontext";
import type { BackendBuild } from "../backend";

export const SSH_HOST_KEYS_STEP = "ssh host keys at first boot";
export const INSTALLED_PACKAGES_STEP = "read installed packages";

export function actionSteps(b: BackendBuild, root: RootFs): Step[] {
  const keys: Step = {
    name: `${SSH_HOST_KEYS_STEP} (sandbox)`,
    do: async (ctx) => void (b.facts.sshd = await sshHostKeysAtFirstBoot(root, ctx)),
  };
  const packages: Step = {
    name: `${INSTALLED_PACKAGES_STEP} (sandbox)`,
    do: async (ctx) => void (b.facts.packagesReport = await installedPackagesReport(root, ctx)),
  };
  if (!b.image.actions.length) return [keys, packages];
  return [{
    name: "run actions (sandbox)",
    do: async (ctx) => {
      const contextOf = actionContexts(b);
      for (const [i, action] of b.image.actions.entries()) await applyAction(root, action, ctx, contextOf(i));
    },
  }, keys, packages];
}
