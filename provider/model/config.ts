// The image configuration and its validation, in the TypeScript spelling
// (lvh's spelling is read by lvh.ts into the same frozen `ImageConfig`).
// Validation errors name the image and the field:
// `image "base.img": actions[1] (upload).file: ...`.
import { z } from "zod";
import { type Action, ACTION_TYPES, ActionSchema, type ActionType } from "../actions";
import { text } from "../actions/fields";

/** Backends that build images; `auto` picks one for this host. */
export const BACKEND_CHOICES = ["auto", "guestfs", "direct"] as const;

/** A Debian suite or codename, such as bookworm or stable. */
export const SUITE_PATTERN = /^[a-z][a-z0-9.-]*$/;
/** A Debian mirror: an http, https or file URL. */
export const MIRROR_PATTERN = /^(https?|file):\/\/\S+$/;

/** The qemu size syntax: a number and an optional unit (bytes, k, M, G, T, P, E). */
export const SIZE_PATTERN = /^(\d+(?:\.\d+)?)([bkmgtpe]?)$/i;
/** A Debian package name (Debian Policy 5.6.1), optionally with an architecture. */
const PACKAGE_PATTERN = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$/;

/** An image name: a file name in the images directory. `.qcow2` means qcow2, anything else raw. */
export const ImageName = text("name")
  .refine((s) => !s.includes("/"), "name must be a file name, without '/'")
  .refine((s) => !s.includes(".."), "name must not contain '..'")
  .refine((s) => s !== ".", "name must not be '.'");

export const ImageConfig = z.object({
  /** File name of the image in the images directory. @example "base.img" */
  name: ImageName,
  /** The image this one derives from: another image of the forest, or an image file in the images directory. */
  parent: ImageName.optional(),
  /** Size of the disk, in qemu's syntax. @default "8G" for root images; a derived image keeps its parent's size unless set. */
  size: text("size").refine((s) => SIZE_PATTERN.test(s) && sizeBytes(s) > 0, "size must be a qemu size such as 8G, 512M or 10737418240").optional(),
  /** Whether a root image gets a partition table, kernel and boot loader. @default true (lvh's default on amd64) */
  bootable: z.boolean({ invalid_type_error: "bootable must be true or false" }).optional(),
  /** Debian packages to install. @default [] */
  packages: z.array(
    z.string({ invalid_type_error: "packages must be strings" })
      .refine((s) => PACKAGE_PATTERN.test(s), (s) => ({ message: `${JSON.stringify(s)} is not a valid Debian package name` })),
    { invalid_type_error: "packages must be a list of package names" },
  ).default([]),
  /** Actions run in order after the packages are installed. @default [] */
  actions: z.array(ActionSchema, { invalid_type_error: "actions must be a list" }).default([]),
}).strict();
export type ImageConfig = z.infer<typeof ImageConfig>;
/** What a program writes: the same, with the defaults optional. */
export type ImageConfigInput = z.input<typeof ImageConfig>;

const UNITS: Record<string, number> = { "": 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50, e: 2 ** 60 };

/** Bytes of a qemu size such as "8G"; NaN when it is not one. */
export function sizeBytes(size: string): number {
  const m = SIZE_PATTERN.exec(size);
  return m ? Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]) : NaN;
}

/** A configuration error that names the image and the field. */
export class ConfigError extends Error {
  constructor(
    readonly image: string | undefined,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${image === undefined ? "" : `image ${JSON.stringify(image)}: `}${field ? `${field}: ` : ""}${reason}`);
    this.name = "ConfigError";
  }
}

/** A zod issue path as `actions[1] (upload).file`. */
function fieldOf(path: (string | number)[], data: unknown): string {
  let out = "";
  let node: unknown = data;
  for (const key of path) {
    if (typeof key === "number") {
      out += `[${key}]`;
      node = Array.isArray(node) ? node[key] : undefined;
      const type = (node as { type?: unknown } | undefined)?.type;
      if (typeof type === "string" && ACTION_TYPES.includes(type as ActionType)) out += ` (${type})`;
    } else {
      out += out ? `.${key}` : key;
      node = node && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return out;
}

/** Validate one image in the idiomatic form; throws a ConfigError naming the image and field. */
export function parseImageConfig(input: unknown, index?: number): ImageConfig {
  const result = ImageConfig.safeParse(input);
  if (result.success) return Object.freeze(result.data);
  const name = (input as { name?: unknown } | undefined)?.name;
  const image = typeof name === "string" && name !== "" ? name : index === undefined ? "(unnamed)" : `#${index + 1}`;
  const issue = result.error.issues[0];
  const field = issue.code === "unrecognized_keys"
    ? fieldOf([...issue.path, issue.keys[0]], input)
    : fieldOf(issue.path, input);
  const reason = issue.code === "unrecognized_keys" ? `unknown field; ${issue.message}` : issue.message;
  throw new ConfigError(image, field, reason);
}

export type { Action, ActionType } from "../actions";
