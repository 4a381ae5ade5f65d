// How consecutive virt-customize invocations merge into one (lvh's
// --merge-steps). Each action becomes one or more argument groups, which
// virt-customize applies in order; merging concatenates groups, so it never
// reorders anything.
import { type Action, type ActionContext, customizeArgs } from "./index";

/**
 * The virt-customize invocations for packages and actions: one in all when
 * merging, else one for the packages and one per argument group (lvh's
 * unmerged behaviour).
 */
export function customizeInvocations(
  packages: readonly string[],
  actions: readonly Action[],
  ctx: ActionContext,
  merge: boolean,
): string[][] {
  const groups: string[][] = [];
  if (packages.length) groups.push(["--install", packages.join(",")]);
  for (const action of actions) groups.push(...customizeArgs(action, ctx));
  if (!merge) return groups;
  return groups.length ? [groups.flat()] : [];
}
