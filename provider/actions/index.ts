// The action types: the one list of them. Adding an action type means a
// module in this directory (see fields.ts for what it holds) and a line here.
import { z } from "zod";
import { appendLine } from "./append-line";
import { chmod } from "./chmod";
import { copyIn } from "./copy-in";
import type { ActionContext, ActionDefinition, GuestOp } from "./fields";
import { installKernel } from "./install-kernel";
import { link } from "./link";
import { mkdir } from "./mkdir";
import { runCommand } from "./run-command";
import { setHostname } from "./set-hostname";
import { tarIn } from "./tar-in";
import { upload } from "./upload";

/** Every action type, in lvh's order. */
export const ACTIONS = [runCommand, copyIn, setHostname, mkdir, upload, chmod, appendLine, link, installKernel, tarIn] as const;

type Definition = (typeof ACTIONS)[number];
/** An action, validated, in the TypeScript spelling. */
export type Action = z.infer<Definition["schema"]>;
/** An action as a program writes it. */
export type ActionInput = z.input<Definition["schema"]>;
export type ActionType = Action["type"];

export const ACTION_TYPES: readonly ActionType[] = ACTIONS.map((a) => a.type);

const BY_TYPE = new Map<string, ActionDefinition<string, z.ZodTypeAny>>(ACTIONS.map((a) => [a.type, a]));

/** The definition of an action type, or undefined for a type we do not know. */
export function actionDefinition(type: string): ActionDefinition<string, z.ZodTypeAny> | undefined {
  return BY_TYPE.get(type);
}

function definitionOf(action: Action): ActionDefinition<string, z.ZodTypeAny> {
  return BY_TYPE.get(action.type)!;
}

/** Any action, validated by its type's schema. */
export const ActionSchema = z.discriminatedUnion(
  "type",
  ACTIONS.map((a) => a.schema) as unknown as [z.AnyZodObject, z.AnyZodObject, ...z.AnyZodObject[]],
  {
    errorMap: (issue, ctx) => {
      if (issue.code !== "invalid_union_discriminator") return { message: ctx.defaultError };
      const type = (ctx.data as { type?: unknown })?.type;
      return {
        message: type === undefined
          ? `the action type is missing; expected one of ${ACTION_TYPES.join(", ")}`
          : `unknown action type ${JSON.stringify(type)}; expected one of ${ACTION_TYPES.join(", ")}`,
      };
    },
  },
) as unknown as z.ZodType<Action, z.ZodTypeDef, ActionInput>;

/** The fields of an action that name files or directories on the build host, with their values. */
export function localPathsOf(action: Action): { field: string; path: string; throughLinks: boolean }[] {
  return definitionOf(action).localPaths.map(({ field, throughLinks }) => ({
    field, throughLinks, path: (action as Record<string, string>)[field],
  }));
}

/** virt-customize argument groups of one action, in order. */
export function customizeArgs(action: Action, ctx: ActionContext): string[][] {
  return definitionOf(action).customizeArgs(action, ctx);
}

/** The operations that carry out one action in the VM-less build's sandbox. */
export function guestOps(action: Action, ctx: ActionContext): GuestOp[] {
  return definitionOf(action).guestOps(action, ctx);
}

export type { ActionContext, GuestOp } from "./fields";
export { shQuote } from "./fields";

/** Every action type's lvh `op` field names and ours, by type (derived from the registry). */
export const ACTION_FIELDS: Readonly<Record<ActionType, Readonly<Record<string, string>>>> = Object.fromEntries(
  ACTIONS.map((a) => [a.type, a.lvhFields]),
) as Record<ActionType, Readonly<Record<string, string>>>;
