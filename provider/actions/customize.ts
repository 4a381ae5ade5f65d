// How consecutive virt-customize invocations merge into one (lvh's
// --merge-steps). Each action becomes one or more argument groups, which
// virt-customize applies in order; merging concatenates groups, so it never
// reorders anything.
import { type Action, type ActionContext, customizeArgs } from "./index";

/**
 * The virt-customize invocations for packages and actions: one in all when
 * merging, else one for the packages and one per argument group (lvh's
 * unmerged behaviour). `ctxOf` gives the context of the action at an index.
 */
export function customizeInvocations(
  packages: readonly string[],
  actions: readonly Action[],
  ctxOf: (index: number) => ActionContext,
  merge: boolean,
): string[][] {
  const groups: string[][] = [];
  if (packages.length) groups.push(["--install", packages.join(",")]);
  actions.forEach((action, i) => groups.push(...customizeArgs(action, ctxOf(i))));
  if (!merge) return groups;
  return groups.length ? [groups.flat()] : [];
}
