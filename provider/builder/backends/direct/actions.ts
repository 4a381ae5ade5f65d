// The image's actions, in order, in the sandbox on its root file system.
import type { Step } from "../../run/steps";
import { applyAction, type RootFs } from "../../sandbox/sandbox";
import { actionContexts } from "../actioncontext";
import type { BackendBuild } from "../backend";

export function actionSteps(b: BackendBuild, root: RootFs): Step[] {
  if (!b.image.actions.length) return [];
  return [{
    name: "run actions (sandbox)",
    do: async (ctx) => {
      const contextOf = actionContexts(b);
      for (const [i, action] of b.image.actions.entries()) await applyAction(root, action, ctx, contextOf(i));
    },
  }];
}
