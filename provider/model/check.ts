// Checking an Image's inputs, pure: validation that names the image and the
// field, the backend resolved from the host's facts, local files hashed, and
// the build key computed, so `pulumi preview` fails early and shows what
// would be rebuilt.
import * as path from "node:path";
import type { Action } from "../actions";
import { buildKey } from "./buildkey";
import { BACKEND_CHOICES, ConfigError, ConfigErrors, type ImageConfig, MIRROR_PATTERN, parseImageConfig, SUITE_PATTERN } from "./config";
import { UNKNOWN } from "./diff";
import { type HostFacts, resolveBackend } from "./host";
import { identityOf } from "./identity";
import { hashLocalInputs } from "./localinputs";
import { parseRef, RefError, registryRefusal, TAG } from "./oci";
import { splitUrlCredentials } from "./urlcredentials";

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
  /** Repository to look the build key up in before building, and to publish to after (not part of the build key). */
  registry?: string;
  /** A human tag for the published image, besides its build key. */
  tag?: string;
  /** Plain HTTP or unverified TLS for a registry not on loopback. */
  insecureRegistry?: boolean;
  /**
   * Boot a bootable image before keeping it: unset means where qemu is
   * installed. Neither this nor `verbose` nor `__urn` is in the build key or
   * the diff: they change how an image is built and shown, not what it is.
   */
  verifyBoot?: boolean;
  /** Every tool line in the CLI's output too. */
  verbose?: boolean;
  /** The resource's own URN, where its progress is shown (the engine's Log call takes one). */
  __urn?: string;
  /** With a registry: keep a local copy of the image in `dir` (pulled when missing), or only when a build needs it. */
  localCopies?: boolean;
}

/** Inputs after `check`: validated, with the backend resolved and the build key computed. */
export interface CheckedImageInputs extends ImageInputs {
  backend: "guestfs" | "direct";
  fileHashes: Record<string, string>;
  buildKey: string;
  /** Why this image would be rebuilt, compared with the inputs it was built from (shown by `pulumi preview --diff`). */
  rebuildReasons: string[];
}

export interface CheckFailure {
  property: string;
  reason: string;
}

export type CheckOutcome =
  | { ok: true; inputs: Omit<CheckedImageInputs, "rebuildReasons"> }
  | { ok: false; failures: CheckFailure[] };

const isUnknown = (v: unknown) => v === UNKNOWN;

function failure(property: string, image: string, reason: string): CheckFailure {
  return { property, reason: `image ${JSON.stringify(image)}: ${property}: ${reason}` };
}

/** The image configuration of an Image's inputs (throws a ConfigError with every problem). */
export function imageConfigOf(inputs: ImageInputs): ImageConfig {
  return parseImageConfig({
    name: inputs.name, parent: inputs.parent, size: inputs.size, bootable: inputs.bootable,
    packages: inputs.packages ?? [], actions: inputs.actions ?? [],
  });
}

/** Validate an Image's inputs and compute its build key on a host with these facts. */
export async function checkImageInputs(news: ImageInputs, host: HostFacts): Promise<CheckOutcome> {
  const name = typeof news.name === "string" ? news.name : "(unnamed)";
  const failures: CheckFailure[] = [];
  if (typeof news.dir !== "string" || !path.isAbsolute(news.dir)) failures.push(failure("dir", name, "must be an absolute directory path"));
  if (typeof news.baseDir !== "string" || !path.isAbsolute(news.baseDir)) failures.push(failure("baseDir", name, "must be an absolute directory path"));
  if (typeof news.suite !== "string" || !SUITE_PATTERN.test(news.suite)) failures.push(failure("suite", name, "must be a Debian suite or codename such as bookworm"));
  if (news.mirror !== undefined && !MIRROR_PATTERN.test(news.mirror)) failures.push(failure("mirror", name, "must be an http://, https:// or file:// URL"));
  if (!BACKEND_CHOICES.includes(news.backend as never)) failures.push(failure("backend", name, `must be one of ${BACKEND_CHOICES.join(", ")}`));
  if (typeof news.mergeSteps !== "boolean") failures.push(failure("mergeSteps", name, "must be true or false"));
  if (news.registry !== undefined) {
    try {
      const ref = parseRef(news.registry);
      if (ref.tag || ref.digest) throw new RefError("a repository, without a tag or digest");
      const refusal = registryRefusal(ref.host, !!news.insecureRegistry);
      if (refusal) failures.push(failure("registry", name, refusal));
    } catch (err) {
      if (!(err instanceof RefError)) throw err;
      failures.push(failure("registry", name, err.message));
    }
  }
  if (news.tag !== undefined && !TAG.test(news.tag)) failures.push(failure("tag", name, `must be a tag (${TAG.source})`));
  for (const flag of ["verifyBoot", "verbose"] as const) {
    if (news[flag] !== undefined && typeof news[flag] !== "boolean") failures.push(failure(flag, name, "must be true or false"));
  }

  let image: ImageConfig | undefined;
  try {
    image = imageConfigOf(news);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err instanceof ConfigErrors ? err.problems : [err];
    failures.push(...problems.map((p) => ({ property: p.field.split(/[.[ ]/)[0] || "name", reason: p.message })));
  }
  if (failures.length || !image) return { ok: false, failures };

  let fileHashes: Record<string, string>;
  try {
    fileHashes = await hashLocalInputs(image, news.baseDir);
  } catch (err) {
    return { ok: false, failures: [{ property: "actions", reason: (err as Error).message }] };
  }
  const backend = resolveBackend(news.backend, host);
  const external = image.parent !== undefined && news.parentBuildKey === undefined;
  const parentPath = image.parent === undefined ? undefined : (news.parentPath ?? path.join(news.dir, image.parent));
  const identity = external && parentPath ? identityOf(parentPath) : undefined;
  const parentFile = external ? (identity ? `${identity.ino}:${identity.size}:${identity.mtimeMs}` : "missing") : undefined;
  const key = isUnknown(news.parentBuildKey)
    ? UNKNOWN
    : buildKey({ image, backend, suite: news.suite, mirror: news.mirror && splitUrlCredentials(news.mirror).url, parentBuildKey: news.parentBuildKey, parentFile, fileHashes });
  return {
    ok: true,
    inputs: { ...news, parentPath, packages: image.packages, actions: image.actions, backend, fileHashes, buildKey: key },
  };
}
