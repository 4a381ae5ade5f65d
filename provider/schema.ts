// The image configuration model, its two spellings and their validation.
//
// Programs write the idiomatic form, `{ type: "run-command", cmd: "..." }`;
// little-vm-helper's `images.json` spells the same action
// `{ "comment": "...", "type": "run-command", "op": { "Cmd": "..." } }`.
// Both load to the same frozen `ImageConfig`. Validation errors name the
// image and the field: `image "base.img": actions[1] (upload): file: ...`.
import { z } from "zod";

/** Every action type, with its lvh `op` field names and our field names, in lvh's order. */
export const ACTION_FIELDS = {
  "run-command": { Cmd: "cmd" },
  "copy-in": { LocalPath: "localPath", RemoteDir: "remoteDir" },
  "set-hostname": { Hostname: "hostname" },
  mkdir: { Dir: "dir" },
  upload: { File: "file", Dest: "dest" },
  chmod: { Permissions: "permissions", File: "file" },
  "append-line": { File: "file", Line: "line" },
  link: { Target: "target", Link: "link" },
  "install-kernel": { KernelInstallDir: "kernelInstallDir" },
  "tar-in": { TarFile: "tarFile", RemoteDir: "remoteDir" },
} as const;

export type ActionType = keyof typeof ACTION_FIELDS;
export const ACTION_TYPES = Object.keys(ACTION_FIELDS) as ActionType[];

/** The fields of each action type that name a file or directory on the build host. */
export const LOCAL_PATH_FIELDS: Partial<Record<ActionType, "localPath" | "file" | "kernelInstallDir" | "tarFile">> = {
  "copy-in": "localPath",
  upload: "file",
  "install-kernel": "kernelInstallDir",
  "tar-in": "tarFile",
};

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
const HOSTNAME_PATTERN = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

const text = (what: string) =>
  z.string({ required_error: `${what} is required`, invalid_type_error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .refine((s) => !s.includes("\0"), `${what} must not contain NUL`);
/** A path inside the image: absolute, and free of ':' which virt-customize uses as a separator. */
const guestPath = (what: string) =>
  text(what)
    .refine((s) => s.startsWith("/"), `${what} must be an absolute path inside the image`)
    .refine((s) => !s.includes(":"), `${what} must not contain ':'`);
const hostPath = (what: string) => text(what).refine((s) => !s.includes(":"), `${what} must not contain ':'`);
const comment = z.string().optional();

/** Runs a shell command inside the image (as root, `sh -c`). @example { type: "run-command", cmd: "passwd -d root" } */
export const RunCommand = z.object({ type: z.literal("run-command"), comment, cmd: text("cmd") }).strict();
/** Copies a local file or directory, recursively, into a directory of the image. @example { type: "copy-in", localPath: "bootstrap", remoteDir: "/root" } */
export const CopyIn = z.object({ type: z.literal("copy-in"), comment, localPath: hostPath("localPath"), remoteDir: guestPath("remoteDir") }).strict();
/** Sets the image's hostname. @example { type: "set-hostname", hostname: "kind-node" } */
export const SetHostname = z.object({
  type: z.literal("set-hostname"), comment,
  hostname: text("hostname").refine((s) => HOSTNAME_PATTERN.test(s), "hostname must be a valid host name (RFC 1123)"),
}).strict();
/** Creates a directory (and its parents) in the image. @example { type: "mkdir", dir: "/etc/ssh/sshd_config.d" } */
export const Mkdir = z.object({ type: z.literal("mkdir"), comment, dir: guestPath("dir") }).strict();
/** Uploads a local file to a path in the image. @example { type: "upload", file: "env.sh", dest: "/etc/profile.d/env.sh" } */
export const Upload = z.object({ type: z.literal("upload"), comment, file: hostPath("file"), dest: guestPath("dest") }).strict();
/** Changes a file's mode in the image; permissions are octal. @example { type: "chmod", permissions: "0755", file: "/usr/local/bin/run.sh" } */
export const Chmod = z.object({
  type: z.literal("chmod"), comment,
  permissions: text("permissions").refine((s) => /^0?[0-7]{3,4}$/.test(s), "permissions must be an octal mode such as 0755"),
  file: guestPath("file"),
}).strict();
/** Appends a line to a file in the image, creating it if needed. @example { type: "append-line", file: "/etc/hosts", line: "10.0.0.2 peer" } */
export const AppendLine = z.object({
  type: z.literal("append-line"), comment, file: guestPath("file"),
  line: z.string({ required_error: "line is required" }).refine((s) => !/[\n\0]/.test(s), "line must be a single line"),
}).strict();
/** Creates a symbolic link `link` pointing at `target` in the image. @example { type: "link", target: "/usr/bin/vim.basic", link: "/usr/local/bin/vi" } */
export const Link = z.object({ type: z.literal("link"), comment, target: guestPath("target"), link: guestPath("link") }).strict();
/**
 * Installs a kernel from a local install directory (as made by `make INSTALL_PATH=dir/boot
 * INSTALL_MOD_PATH=dir install modules_install`): copies its `boot/` to `/boot` and
 * `lib/modules` to `/lib/modules`, and links `/vmlinuz` to the kernel.
 * @example { type: "install-kernel", kernelInstallDir: "kernels/bpf-next" }
 */
export const InstallKernel = z.object({ type: z.literal("install-kernel"), comment, kernelInstallDir: hostPath("kernelInstallDir") }).strict();
/** Unpacks a local tar archive into a directory of the image. @example { type: "tar-in", tarFile: "rootfs-extra.tar", remoteDir: "/" } */
export const TarIn = z.object({ type: z.literal("tar-in"), comment, tarFile: hostPath("tarFile"), remoteDir: guestPath("remoteDir") }).strict();

export const Action = z.discriminatedUnion("type", [
  RunCommand, CopyIn, SetHostname, Mkdir, Upload, Chmod, AppendLine, Link, InstallKernel, TarIn,
], {
  errorMap: (issue, ctx) =>
    issue.code === "invalid_union_discriminator"
      ? { message: `unknown action type ${JSON.stringify((ctx.data as { type?: unknown })?.type)}; expected one of ${ACTION_TYPES.join(", ")}` }
      : { message: ctx.defaultError },
});
export type Action = z.infer<typeof Action>;

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
  actions: z.array(Action, { invalid_type_error: "actions must be a list" }).default([]),
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

// ---- lvh's images.json spelling ----

/** lvh's image fields (Go json tags), and ours. */
const LVH_IMAGE_FIELDS: Record<string, string> = {
  name: "name", parent: "parent", image_size: "size", bootable: "bootable", packages: "packages", actions: "actions",
};

/**
 * Go's encoding/json matches object keys to fields case-insensitively, so lvh
 * accepts `"cmd"` for `"Cmd"`. We do too, and reject keys lvh would ignore:
 * they are typos that would otherwise silently change nothing.
 */
function renameKeys(obj: Record<string, unknown>, names: Record<string, string>, where: (key: string) => never) {
  const lower = new Map(Object.entries(names).map(([k, v]) => [k.toLowerCase(), v]));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    const ours = lower.get(key.toLowerCase());
    if (ours === undefined) where(key);
    out[ours!] = value;
  }
  return out;
}

/** Convert one lvh `ImgConf` object to the idiomatic form (not yet validated). */
export function fromLvhImage(raw: unknown, index: number): unknown {
  const label = (raw as { name?: unknown })?.name;
  const image = typeof label === "string" && label !== "" ? label : `#${index + 1}`;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(image, "", "each image must be a JSON object");
  }
  const img = renameKeys(raw as Record<string, unknown>, LVH_IMAGE_FIELDS, (key) => {
    throw new ConfigError(image, key, `unknown field; lvh image fields are ${Object.keys(LVH_IMAGE_FIELDS).join(", ")}`);
  });
  if (img.packages === null) img.packages = []; // Go marshals an empty slice as null
  if (img.actions === null) delete img.actions;
  if (Array.isArray(img.actions)) {
    img.actions = img.actions.map((action, i) => fromLvhAction(action, image, i));
  }
  return img;
}

function fromLvhAction(raw: unknown, image: string, index: number): unknown {
  const where = `actions[${index}]`;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(image, where, 'each action must be an object with "type" and "op"');
  }
  const action = renameKeys(raw as Record<string, unknown>, { comment: "comment", type: "type", op: "op" }, (key) => {
    throw new ConfigError(image, `${where}.${key}`, 'unknown field; an lvh action has "comment", "type" and "op"');
  });
  const type = action.type;
  if (typeof type !== "string" || !(type in ACTION_FIELDS)) {
    throw new ConfigError(image, `${where}.type`, `unknown action type ${JSON.stringify(type)}; expected one of ${ACTION_TYPES.join(", ")}`);
  }
  const fields = ACTION_FIELDS[type as ActionType] as Record<string, string>;
  const op = action.op ?? {};
  if (typeof op !== "object" || Array.isArray(op)) {
    throw new ConfigError(image, `${where} (${type}).op`, `op must be an object with ${Object.keys(fields).join(", ")}`);
  }
  const opFields = renameKeys(op as Record<string, unknown>, fields, (key) => {
    throw new ConfigError(image, `${where} (${type}).op.${key}`, `unknown field; ${type} takes ${Object.keys(fields).join(", ")}`);
  });
  for (const [goName, ours] of Object.entries(fields)) {
    if (opFields[ours] === undefined) {
      throw new ConfigError(image, `${where} (${type}).op.${goName}`, `missing; ${type} takes ${Object.keys(fields).join(", ")}`);
    }
  }
  const comment = typeof action.comment === "string" && action.comment !== "" ? { comment: action.comment } : {};
  return { type, ...comment, ...opFields };
}

/** Convert an action of the idiomatic form to lvh's spelling. */
export function toLvhAction(action: Action): { comment: string; type: ActionType; op: Record<string, string> } {
  const fields = ACTION_FIELDS[action.type] as Record<string, string>;
  const op: Record<string, string> = {};
  for (const [goName, ours] of Object.entries(fields)) op[goName] = (action as unknown as Record<string, string>)[ours];
  return { comment: action.comment ?? "", type: action.type, op };
}

/** Convert an image to lvh's `ImgConf` spelling, as lvh writes it. */
export function toLvhImage(img: ImageConfig): Record<string, unknown> {
  return {
    name: img.name,
    ...(img.parent ? { parent: img.parent } : {}),
    ...(img.size ? { image_size: img.size } : {}),
    ...(img.bootable === undefined ? {} : { bootable: img.bootable }),
    packages: img.packages,
    ...(img.actions.length ? { actions: img.actions.map(toLvhAction) } : {}),
  };
}

/** Parse the text of an lvh `images.json`: a JSON list of images. */
export function parseLvhImages(text: string, source = "images.json"): ImageConfig[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(undefined, source, `invalid JSON: ${(err as Error).message}`);
  }
  // lvh's own saved configuration wraps the list as { Dir, Images }.
  if (raw && typeof raw === "object" && !Array.isArray(raw)) {
    const images = Object.entries(raw).find(([k]) => k.toLowerCase() === "images")?.[1];
    if (images !== undefined) raw = images;
  }
  if (!Array.isArray(raw)) throw new ConfigError(undefined, source, "must be a JSON list of images");
  return raw.map((img, i) => parseImageConfig(fromLvhImage(img, i), i));
}
