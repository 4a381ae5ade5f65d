// The Image resource's provider: validation and build keys at `check` (so
// `pulumi preview` fails early and shows what would be rebuilt), builds at
// `create`, and a delete that only removes the file this resource built.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { guestfsEnvironment } from "./accel";
import type { Backend } from "./backends/backend";
import { directBackend } from "./backends/direct";
import { guestfsBackend } from "./backends/guestfs";
import { buildKey, canonicalJson } from "./buildkey";
import { decideImageDiff, type FileIdentity, rebuildReasons, sameIdentity, UNKNOWN } from "./diff";
import { imageFormat } from "./forest";
import { buildImage, identityOf, removeImageIfOurs } from "./imagebuild";
import { interruptible, limiter } from "./interrupt";
import { hashLocalInputs } from "./localfiles";
import { memoryLogger } from "./log";
import { type Action, BACKEND_CHOICES, ConfigError, MIRROR_PATTERN, parseImageConfig, SUITE_PATTERN } from "./schema";

/** The Image resource's inputs, as the program gives them. */
export interface ImageInputs {
  dir: string;
  name: string;
  parent?: string;
  parentPath?: string;
  parentBuildKey?: string;
  size?: string;
  bootable?: boolean;
  packages?: string[];
  actions?: Action[];
  baseDir: string;
  suite: string;
  mirror?: string;
  backend: string;
  mergeSteps: boolean;
  rebuild?: string;
}

/** Inputs after `check`: validated, with the backend resolved and the build key computed. */
export interface CheckedImageInputs extends ImageInputs {
  backend: "guestfs" | "direct";
  fileHashes: Record<string, string>;
  buildKey: string;
  /** Why this image would be rebuilt, compared with the inputs it was built from (shown by `pulumi preview --diff`). */
  rebuildReasons: string[];
}

export interface ImageOutputs extends CheckedImageInputs {
  path: string;
  format: "raw" | "qcow2";
  sizeBytes: number;
  identity: FileIdentity;
  logFile: string;
  accel: string;
  stepSeconds: Record<string, number>;
}

export const BACKENDS: Record<string, Backend> = { guestfs: guestfsBackend, direct: directBackend };

/** The per-user cache directory, as scripts/lib/toolchain.js computes it. */
export function cacheDir(): string {
  if (process.env.VM_IMAGES_CACHE_DIR) return path.resolve(process.env.VM_IMAGES_CACHE_DIR);
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "pulumi-vm-images");
}

/** Tools the direct backend runs, besides those both backends need. */
const DIRECT_TOOLS = ["mmdebstrap", "mke2fs", "unshare", "sfdisk", "extlinux", "chroot", "mount"];

function onPath(tool: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, tool), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * `auto` is `direct` where this host can build without a VM: as root (loop
 * mounts and the chroot's mounts need it) with the tools present; else guestfs.
 */
export function resolveBackend(requested: string): "guestfs" | "direct" {
  if (requested === "guestfs" || requested === "direct") return requested;
  const root = process.getuid?.() === 0;
  return root && DIRECT_TOOLS.every(onPath) ? "direct" : "guestfs";
}

const isUnknown = (v: unknown) => v === UNKNOWN;

/** Where the Node.js SDK keeps a dynamic resource's serialized provider among its inputs. */
const PROVIDER_KEY = "__provider";

/** The engine's protobuf Struct has no `undefined`: leave such keys out. */
function definedOnly<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

function failure(property: string, image: string, reason: string): pulumi.dynamic.CheckFailure {
  return { property, reason: `image ${JSON.stringify(image)}: ${property}: ${reason}` };
}

/**
 * The engine checks a resource it replaces a second time, without its old
 * inputs, and keeps the result as the new inputs. The reasons found by the
 * first check (the one with the old inputs) are carried over to the second
 * here, in this provider process, which serves one operation.
 */
const carriedReasons = new Map<string, string[]>();

function reasonsFor(olds: Partial<CheckedImageInputs> | undefined, checked: Omit<CheckedImageInputs, "rebuildReasons">): string[] {
  const key = canonicalJson({ ...checked, [PROVIDER_KEY]: undefined, rebuildReasons: undefined });
  if (olds?.buildKey) {
    const reasons = rebuildReasons(olds, checked);
    carriedReasons.set(key, reasons);
    return reasons;
  }
  return carriedReasons.get(key) ?? (checked.parentBuildKey === UNKNOWN ? ["parent replaced"] : []);
}

export async function checkImage(news: ImageInputs, olds?: Partial<CheckedImageInputs>): Promise<pulumi.dynamic.CheckResult<CheckedImageInputs>> {
  const name = typeof news.name === "string" ? news.name : "(unnamed)";
  const failures: pulumi.dynamic.CheckFailure[] = [];
  if (typeof news.dir !== "string" || !path.isAbsolute(news.dir)) failures.push(failure("dir", name, "must be an absolute directory path"));
  if (typeof news.baseDir !== "string" || !path.isAbsolute(news.baseDir)) failures.push(failure("baseDir", name, "must be an absolute directory path"));
  if (typeof news.suite !== "string" || !SUITE_PATTERN.test(news.suite)) failures.push(failure("suite", name, "must be a Debian suite or codename such as bookworm"));
  if (news.mirror !== undefined && !MIRROR_PATTERN.test(news.mirror)) failures.push(failure("mirror", name, "must be an http://, https:// or file:// URL"));
  if (!BACKEND_CHOICES.includes(news.backend as never)) failures.push(failure("backend", name, `must be one of ${BACKEND_CHOICES.join(", ")}`));
  if (typeof news.mergeSteps !== "boolean") failures.push(failure("mergeSteps", name, "must be true or false"));

  let image;
  try {
    image = parseImageConfig({
      name: news.name, parent: news.parent, size: news.size, bootable: news.bootable,
      packages: news.packages ?? [], actions: news.actions ?? [],
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    failures.push({ property: err.field.split(/[.[ ]/)[0] || "name", reason: err.message });
  }
  if (failures.length || !image) return { inputs: news as CheckedImageInputs, failures };

  let fileHashes: Record<string, string>;
  try {
    fileHashes = await hashLocalInputs(image, news.baseDir);
  } catch (err) {
    return { inputs: news as CheckedImageInputs, failures: [{ property: "actions", reason: (err as Error).message }] };
  }
  const backend = resolveBackend(news.backend);
  const external = image.parent !== undefined && news.parentBuildKey === undefined;
  const parentPath = image.parent === undefined ? undefined : (news.parentPath ?? path.join(news.dir, image.parent));
  const identity = external && parentPath ? identityOf(parentPath) : undefined;
  const parentFile = external ? (identity ? `${identity.ino}:${identity.size}:${identity.mtimeMs}` : "missing") : undefined;
  const key = isUnknown(news.parentBuildKey) || isUnknown(news.parentPath)
    ? UNKNOWN
    : buildKey({ image, backend, suite: news.suite, mirror: news.mirror, parentBuildKey: news.parentBuildKey, parentFile, fileHashes });
  const checked = { ...news, parentPath, packages: image.packages, actions: image.actions, backend, fileHashes, buildKey: key };
  return { inputs: definedOnly({ ...checked, rebuildReasons: reasonsFor(olds, checked) }) };
}

export function diffImage(olds: ImageOutputs, news: CheckedImageInputs): pulumi.dynamic.DiffResult {
  const decision = decideImageDiff(olds, news, identityOf(olds.path));
  return { changes: decision.changes, replaces: decision.replaces, deleteBeforeReplace: false };
}

const oneAtATime = limiter(Math.max(1, Number(process.env.VM_IMAGES_PARALLEL) || Math.floor(os.cpus().length / 2)));

export function createImage(inputs: CheckedImageInputs): Promise<ImageOutputs> {
  const image = parseImageConfig({
    name: inputs.name, parent: inputs.parent, size: inputs.size, bootable: inputs.bootable,
    packages: inputs.packages ?? [], actions: inputs.actions ?? [],
  });
  const backend = BACKENDS[inputs.backend];
  return oneAtATime(() =>
    interruptible(async (signal) => {
      const cache = cacheDir();
      const accel = await guestfsEnvironment(cache, memoryLogger(), signal);
      process.stderr.write(`${image.name} | backend: ${backend.name}; libguestfs acceleration: ${accel.accel}\n`);
      const built = await buildImage({
        dir: inputs.dir, image, parentPath: inputs.parentPath, suite: inputs.suite, mirror: inputs.mirror,
        baseDir: inputs.baseDir, mergeSteps: inputs.mergeSteps, backend, guestfsEnv: accel.env,
        cacheDir: cache, signal,
      });
      return {
        ...inputs,
        path: built.path,
        format: imageFormat(image.name),
        sizeBytes: built.sizeBytes,
        identity: built.identity,
        logFile: built.logFile,
        accel: accel.accel,
        stepSeconds: Object.fromEntries(built.timings.map((t) => [t.step, Math.round(t.seconds * 10) / 10])),
      };
    }),
  );
}

/** Refresh: an image file deleted or changed outside Pulumi reads as gone, so the next `up` builds it again. */
export function readImage(id: string, props: ImageOutputs | undefined): pulumi.dynamic.ReadResult<ImageOutputs> {
  if (!props) return { id };
  return sameIdentity(identityOf(props.path), props.identity) ? { id, props } : {};
}

export function deleteImage(props: ImageOutputs): void {
  if (!removeImageIfOurs(props.path, props.identity)) {
    process.stderr.write(`${props.name} | not deleting ${props.path}: it is not the file this resource built\n`);
  }
}
