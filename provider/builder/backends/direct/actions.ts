// The image's actions, in order, in the sandbox on its root file system.
import type { Step } from "../../run/steps";
import { applyAction, type RootFs } from "../../sandbox/sandbox";
import { actionContext } from "../actioncontext";
import type { BackendBuild } from "../backend";

export function actionSteps(b: BackendBuild, root: RootFs): Step[] {
  if (!b.image.actions.length) return [];
  return [{
    name: "run actions (sandbox)",
    do: async (ctx) => {
      const actx = actionContext(b.baseDir);
      for (const action of b.image.actions) await applyAction(root, action, ctx, actx);
    },
  }];
}
