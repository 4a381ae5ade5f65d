// What every action module is made of: field validators, the context its
// virt-customize arguments are computed in, and the guest operations that
// carry it out in the VM-less build. Pure: nothing here touches a file or
// starts a process; the build layer interprets the operations.
import { z } from "zod";

/** A required, non-empty string without NUL, named `what` in errors. */
export const text = (what: string) =>
  z.string({ required_error: `${what} is required`, invalid_type_error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .refine((s) => !s.includes("\0"), `${what} must not contain NUL`);

/** A path inside the image: absolute, and free of ':' which virt-customize uses as a separator. */
export const guestPath = (what: string) =>
  text(what)
    .refine((s) => s.startsWith("/"), `${what} must be an absolute path inside the image`)
    .refine((s) => !s.includes(":"), `${what} must not contain ':'`);

/** A path on the build host, relative to the images file's directory or absolute. */
export const hostPath = (what: string) => text(what).refine((s) => !s.includes(":"), `${what} must not contain ':'`);

/** An action's comment: free text, ignored by the build and the build key. */
export const comment = z.string().optional();

/** Single-quote a string for the guest's /bin/sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** What an action needs to know about the build it is part of. */
export interface ActionContext {
  /** Absolute path of a local path written in the configuration. */
  resolve(local: string): string;
  /** The kernel image file name (such as "vmlinuz-6.9.0") in a kernel install dir's boot/. */
  kernelIn(installDir: string): string;
  /** A path inside the image for a transient upload, unique to the build. */
  scratch(name: string): string;
}

/**
 * One operation inside the image, as the VM-less build carries it out in its
 * sandbox. User strings travel as arguments, never as shell code.
 */
export type GuestOp =
  /** Run a program of the image. */
  | { op: "exec"; argv: string[]; stdinFile?: string }
  /** Run a script of `provider/actions/sh/` with the image's /bin/sh; `stdinFile` is a host file on its stdin. */
  | { op: "script"; script: string; args: string[]; stdinFile?: string }
  /** Copy a host file or directory, root-owned, into a directory that exists in the image. */
  | { op: "copy-in"; from: string; into: string };

/** A field that names a file or directory on the build host. */
export interface LocalPathField {
  /** Our name of the field. */
  readonly field: string;
  /** Whether the action reads through a symbolic link at that path (upload) or copies the link itself (copy-in). */
  readonly throughLinks: boolean;
}

/** Everything about one action type. */
export interface ActionDefinition<T extends string, S extends z.ZodTypeAny> {
  /** The `type` of the action, in both spellings. */
  readonly type: T;
  /** lvh's `op` field names (Go's JSON names) and ours, in lvh's order. */
  readonly lvhFields: Readonly<Record<string, string>>;
  /** The action in the TypeScript spelling, validated. */
  readonly schema: S;
  /** The fields that name a file or directory on the build host (read by the build, hashed into the build key). */
  readonly localPaths: readonly LocalPathField[];
  /** virt-customize argument groups that carry it out (the guestfs backend), in order. */
  customizeArgs(action: z.infer<S>, ctx: ActionContext): string[][];
  /** The same, as operations in the VM-less build's sandbox (the direct backend). */
  guestOps(action: z.infer<S>, ctx: ActionContext): GuestOp[];
}

/** Declare an action type; the identity function, for type inference. */
export function defineAction<T extends string, S extends z.ZodTypeAny>(def: ActionDefinition<T, S>): ActionDefinition<T, S> {
  return def;
}
