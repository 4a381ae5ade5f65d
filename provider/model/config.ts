// The image configuration and its validation, in the TypeScript spelling
// (lvh's spelling is read by lvh.ts into the same frozen `ImageConfig`).
// Validation errors name the image and the field:
// `image "base.img": actions[1] (upload).file: ...`.
import { z } from "zod";
import { type Action, ACTION_TYPES, ActionSchema, type ActionType, actionWarnings } from "../actions";
import { text } from "../actions/fields";
import { imageFormat } from "./image";
import { resizeOf, rootSizeBytes } from "./sizes";

/**
 * What apt-get install (and so mmdebstrap --include and virt-customize
 * --install) takes for one package: a Debian package name (Policy 5.6.1),
 * optionally `:arch`, then optionally `=version` (Policy 5.6.12) or
 * `/release`. Nothing else: no globs, patterns or removals (a trailing -).
 */
export const PACKAGE_PATTERN = new RegExp(
  "^[a-z0-9][a-z0-9+.-]*[a-z0-9+.]" + // name
    "(?::[a-z0-9][a-z0-9-]*)?" + // :architecture
    "(?:=(?:(?:0|[1-9][0-9]*):)?(?:[0-9][A-Za-z0-9.+~-]*-[A-Za-z0-9.+~]+|[0-9][A-Za-z0-9.+~]*)" + // =[epoch:]version[-revision]
    "|/[A-Za-z0-9][A-Za-z0-9.+_-]*)?$", // /release
);

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
  /**
   * Size of the disk: for a root image as guestfish reads it (8G, 8GiB, 8GB = 8*10^9, 10737418240); for a derived
   * image as qemu-img resize reads it, where +2G grows the parent's disk by 2 GiB.
   * @default "8G" for root images; a derived image keeps its parent's size unless set.
   */
  size: text("size").optional(),
  /** Whether a root image gets a partition table, kernel and boot loader. @default true (lvh's default on amd64) */
  bootable: z.boolean({ invalid_type_error: "bootable must be true or false" }).optional(),
  /** Debian packages to install, as apt-get install takes them: `curl`, `curl:amd64`, `curl=7.88.1-10+deb12u5`, `curl/bookworm-backports`. @default [] */
  packages: z.array(
    z.string({ invalid_type_error: "packages must be strings" })
      .refine((s) => PACKAGE_PATTERN.test(s), (s) => ({
        message: `${JSON.stringify(s)} is not a valid Debian package name as apt-get install takes it: name, name:arch, name=version or name/release`,
      })),
    { invalid_type_error: "packages must be a list of package names" },
  ).default([]),
  /** Actions run in order after the packages are installed. @default [] */
  actions: z.array(ActionSchema, { invalid_type_error: "actions must be a list" }).default([]),
}).strict().superRefine((img, ctx) => {
  if (img.size === undefined) return;
  const root = img.parent === undefined;
  if (root && !(rootSizeBytes(img.size) > 0)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["size"],
      message: "size must be a size guestfish takes, such as 8G, 8GiB, 8GB, 512M or 10737418240" });
  } else if (!root) {
    const r = resizeOf(img.size);
    if (!r) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["size"],
        message: "size must be a size qemu-img resize takes, such as 10G or +2G (grow by 2 GiB)" });
    } else if (imageFormat(img.name) === "qcow2" && r.bytes % 512 !== 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["size"],
        message: "size must be a multiple of 512 bytes for a qcow2 image (qemu-img resize refuses others)" });
    }
  }
});
export type ImageConfig = z.infer<typeof ImageConfig>;
/** What a program writes: the same, with the defaults optional. */
export type ImageConfigInput = z.input<typeof ImageConfig>;

/** A configuration error that names the image and the field. */
export class ConfigError extends Error {
  constructor(
    readonly image: string | undefined,
    readonly field: string,
    readonly reason: string,
    /** The field as a path into the image's configuration (TypeScript spelling), where known. */
    readonly path?: readonly (string | number)[],
  ) {
    super(`${image === undefined ? "" : `image ${JSON.stringify(image)}: `}${field ? `${field}: ` : ""}${reason}`);
    this.name = "ConfigError";
  }
}

/**
 * Every problem of one source (an images file, a stack's config, an image),
 * reported together: fixing a file takes one run, not one per mistake. A
 * ConfigError itself, so code that takes one takes all.
 */
export class ConfigErrors extends ConfigError {
  readonly problems: readonly ConfigError[];

  constructor(
    /** What the problems are in, such as the images file's path: the start of each message. */
    readonly source: string | undefined,
    problems: readonly ConfigError[],
  ) {
    super(undefined, source ?? "", "");
    this.problems = problems.flatMap((p) => (p instanceof ConfigErrors ? p.problems : [p]));
    this.message = this.messages().join("\n");
    this.name = "ConfigErrors";
  }

  /** One message per problem, each naming the source, the image and the field. */
  messages(): string[] {
    return this.problems.map((p) => (this.source ? `${this.source}: ${p.message}` : p.message));
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

/** How errors name an image: by its name, else by its place in the list. */
export function imageLabel(input: unknown, index?: number): string {
  const name = (input as { name?: unknown } | undefined)?.name;
  return typeof name === "string" && name !== "" ? name : index === undefined ? "(unnamed)" : `#${index + 1}`;
}

/** One image in the idiomatic form, validated, or every problem it has, each naming the image and field. */
export function validateImageConfig(input: unknown, index?: number): { ok: true; image: ImageConfig } | { ok: false; problems: ConfigError[] } {
  const result = ImageConfig.safeParse(input);
  if (result.success) return { ok: true, image: Object.freeze(result.data) };
  const image = imageLabel(input, index);
  const problems = result.error.issues.map((issue) => {
    // Unknown fields of one object are one issue: it is named by the first, and lists them all.
    const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]] : issue.path;
    const reason = issue.code === "unrecognized_keys" ? `unknown field; ${issue.message}` : issue.message;
    return new ConfigError(image, fieldOf(path, input), reason, path);
  });
  return { ok: false, problems };
}

/** Validate one image in the idiomatic form; throws a ConfigError with every problem, each naming the image and field. */
export function parseImageConfig(input: unknown, index?: number): ImageConfig {
  const result = validateImageConfig(input, index);
  if (result.ok) return result.image;
  throw new ConfigErrors(undefined, result.problems);
}

/** What a user should know about images as written (actions lvh reads differently), as `image "x": actions[i]: ...` lines. */
export function configWarnings(images: readonly ImageConfig[]): string[] {
  return images.flatMap((img) => img.actions.flatMap((action, i) =>
    actionWarnings(action).map((w) => `image ${JSON.stringify(img.name)}: actions[${i}] (${action.type}): ${w}`)));
}

export type { Action, ActionType } from "../actions";
export { canonicalSize, resizeOf, rootSizeBytes, sizeBytes } from "./sizes";
