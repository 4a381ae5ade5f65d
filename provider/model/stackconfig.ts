// The root program's stack configuration (`vm-images:*` keys), read by the
// settings table (settings.ts): every unknown key and every bad value is
// reported at once, each naming its key and what it accepts.
import * as path from "node:path";
import { ConfigError, ConfigErrors } from "./config";
import {
  defaultDoc, readText, refusal, type SettingName, settingOf, settingsWhere, type SettingsWith, type SettingValues, stackKey,
} from "./settings";

type StackName = SettingsWith<{ stack: true }>;
type StackNameWithDefault = SettingsWith<{ stack: true; default: unknown }>;

/** The stack's settings: those with a default always set, the others when given. */
export interface StackSettings
  extends Pick<SettingValues, StackNameWithDefault>, Partial<Pick<SettingValues, Exclude<StackName, StackNameWithDefault>>> {}

const STACK_SETTINGS = settingsWhere({ stack: true });

/** Every problem of a stack's configuration. */
export class StackConfigError extends ConfigErrors {}

/** Markdown as plain text, for the terminal: no code marks, and a link reads as its text. */
const plain = (markdown: string) => markdown.replace(/`/g, "").replace(/\[([^\]]+)\]\([^)]+\)/g, "\"$1\" in the docs");

/** The stack config keys, one a line with what each means and its default: the list an unknown key is answered with. */
export function stackKeyListing(): string {
  return STACK_SETTINGS.map((name) => `  ${stackKey(name)}: ${plain(settingOf(name).doc)} (default: ${plain(defaultDoc(name))})`).join("\n");
}

/** The docs' stack config table (Markdown), one row per key. */
export function stackConfigTable(): string {
  const rows = STACK_SETTINGS.map((name) => `| \`${stackKey(name)}\` | ${settingOf(name).doc} | ${defaultDoc(name)} |`);
  return ["| stack config key | meaning | default |", "|---|---|---|", ...rows].join("\n");
}

/** Parse the `vm-images:` keys of a stack's config; relative paths resolve against `root`. Throws a StackConfigError. */
export function parseStackConfig(config: Record<string, string>, root: string): StackSettings {
  const problems: ConfigError[] = [];
  const texts = new Map<string, string>();
  const unknown: string[] = [];
  for (const [key, text] of Object.entries(config)) {
    const m = /^vm-images:(.*)$/.exec(key);
    if (!m) continue;
    if ((STACK_SETTINGS as string[]).includes(m[1])) texts.set(m[1], text);
    else unknown.push(key);
  }
  if (unknown.length) {
    const keys = unknown.length === 1 ? `key ${unknown[0]}` : `keys ${unknown.join(", ")}`;
    problems.push(new ConfigError(undefined, "", `unknown stack config ${keys}; the keys are:\n${stackKeyListing()}`));
  }

  const values: Partial<Record<SettingName, unknown>> = {};
  const unread = new Map<SettingName, string>();
  for (const name of STACK_SETTINGS) {
    const setting = settingOf(name);
    const text = texts.get(name);
    const reading = text === undefined ? { value: structuredClone(setting.default) } : readText(name, text);
    if ("reason" in reading) {
      unread.set(name, reading.reason);
      continue;
    }
    // Paths in the stack config are relative to the project.
    values[name] = setting.kind.isPath && typeof reading.value === "string" ? path.resolve(root, reading.value) : reading.value;
  }
  const context = { insecureRegistry: values.insecureRegistry === true };
  for (const name of STACK_SETTINGS) {
    const reason = unread.get(name) ?? (texts.has(name) ? refusal(name, values[name], context) : undefined);
    if (reason) problems.push(new ConfigError(undefined, stackKey(name), reason));
  }
  if (problems.length) throw new StackConfigError(undefined, problems);
  return values as StackSettings;
}
