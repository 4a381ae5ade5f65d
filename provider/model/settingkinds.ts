// The kinds of setting values (settings.ts): how each reads from stack
// config text, and which values of a program's it refuses, in the words
// both places use.
import * as path from "node:path";
import { parseRef, RefError, registryRefusal } from "./oci";

/** A value read from stack config text, or why the text is none. */
export type Reading<T> = { value: T } | { reason: string };

/** A setting's type: how stack config text reads as a value, and which values a program may give. */
export interface Kind<T> {
  /** A path: relative ones in the stack config resolve against the project directory. */
  readonly isPath?: true;
  read(text: string): Reading<T>;
  /** Why a value is not of this kind (a reason that follows the value: "must be ..."), or undefined. */
  refuse(value: unknown): string | undefined;
}

/** What a setting's rule may look at besides its own value. */
export interface RuleContext {
  insecureRegistry?: boolean;
}

const TRUE_OR_FALSE = "must be true or false";

/** true or false. */
export const flag: Kind<boolean> = {
  read: (text) => (text === "true" ? { value: true } : text === "false" ? { value: false } : { reason: TRUE_OR_FALSE }),
  refuse: (v) => (typeof v === "boolean" ? undefined : TRUE_OR_FALSE),
};

/** A string; with a pattern, one that matches it, described as `what`. */
export function text(pattern?: RegExp, what?: string): Kind<string> {
  return {
    read: (t) => ({ value: t }),
    refuse: (v) => (typeof v !== "string" ? "must be a string" : pattern && !pattern.test(v) ? `must be ${what}` : undefined),
  };
}

/** One of a few words. */
export function choice(choices: readonly string[]): Kind<string> {
  return { read: (t) => ({ value: t }), refuse: (v) => (choices.includes(v as string) ? undefined : `must be one of ${choices.join(", ")}`) };
}

/** A path: relative in the stack config (resolved against the project), absolute in an Image's inputs. */
export function absolutePath(what: string): Kind<string> {
  return {
    isPath: true,
    read: (t) => ({ value: t }),
    refuse: (v) => (typeof v === "string" && path.isAbsolute(v) ? undefined : `must be an absolute ${what} path`),
  };
}

/** A list of strings: a JSON array (`pulumi config set --path 'vm-images:pull[0]' REF`), or words separated by commas or spaces. */
export function list(of: string): Kind<string[]> {
  const reason = `must be a list of ${of}: a JSON array of strings, or ${of} separated by commas or spaces`;
  const refuse = (v: unknown) => (Array.isArray(v) && v.every((s) => typeof s === "string") ? undefined : reason);
  return {
    read: (t) => {
      if (!t.trim().startsWith("[")) return { value: t.split(/[\s,]+/).filter(Boolean) };
      let parsed: unknown;
      try {
        parsed = JSON.parse(t);
      } catch {
        return { reason };
      }
      return refuse(parsed) ? { reason } : { value: parsed as string[] };
    },
    refuse,
  };
}

/** Why a registry reference cannot be used (it names no host, or would be plain HTTP unasked), or undefined. */
export function refRefusal(ref: string, context: RuleContext): string | undefined {
  try {
    return registryRefusal(parseRef(ref).host, !!context.insecureRegistry);
  } catch (err) {
    if (err instanceof RefError) return err.message;
    throw err;
  }
}

/** A size in qemu-img's syntax (512M, 4G, 1.5G, bytes), as an image's size reads. */
export function size(parse: (text: string) => number): Kind<string> {
  const reason = "must be a size such as 512M, 4G or 1073741824";
  return { read: (t) => (parse(t) > 0 ? { value: t } : { reason }), refuse: (v) => (typeof v === "string" && parse(v) > 0 ? undefined : reason) };
}

/** A whole number of at least 1. */
export const count: Kind<number> = {
  read: (t) => (/^[1-9][0-9]*$/.test(t) ? { value: Number(t) } : { reason: "must be a whole number of at least 1" }),
  refuse: (v) => (Number.isSafeInteger(v) && (v as number) >= 1 ? undefined : "must be a whole number of at least 1"),
};

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration such as 90s, 30m or 2h; NaN when it is none. */
export function durationMs(text: string): number {
  const m = /^([1-9][0-9]*)([smh])$/.exec(text);
  return m ? Number(m[1]) * UNITS[m[2]] : NaN;
}

/** A duration: a whole number of seconds, minutes or hours (90s, 30m, 2h). */
export const duration: Kind<string> = {
  read: (t) => (durationMs(t) > 0 ? { value: t } : { reason: "must be a duration such as 90s, 30m or 2h" }),
  refuse: (v) => (typeof v === "string" && durationMs(v) > 0 ? undefined : "must be a duration such as 90s, 30m or 2h"),
};

/** One setting's declaration. */
export interface Setting<T> {
  /** Its value's type, which reads stack config text and refuses bad values. */
  readonly kind: Kind<T>;
  /** What it means, one line of Markdown: the docs' stack config table and the list of keys in errors. */
  readonly doc: string;
  /** Its value when unset, in the stack config and (with `image: "defaulted"`) in an Image. */
  readonly default?: T;
  /** The docs' default column; without it, the default in backquotes, or "unset". */
  readonly defaultDoc?: string;
  /** A stack config key, `vm-images:<name>`. */
  readonly stack?: true;
  /**
   * An input of Image: one a program must give, one the Image sets to its
   * default when unset, or one passed as given (unset stays unset in the
   * state, so images built before it existed keep their inputs).
   */
  readonly image?: "required" | "defaulted" | "given";
  /** A setting of ImageForest: passed to each of its images (pull: the forest's own). */
  readonly forest?: true;
  /** Part of the build key: a change rebuilds the image (and its descendants). */
  readonly buildKey?: true;
  /** Changes how an image is built or shown, never what it is: no diff, no rebuild. */
  readonly howOnly?: true;
  /** May hold a password: never quoted in errors, and a forest takes it as a pulumi.Input so a secret stays one. */
  readonly sensitive?: true;
  /** A rule besides the kind's: why the value is refused (a whole reason, quoting what it needs), or undefined. */
  rule?(value: T, context: RuleContext): string | undefined;
}
