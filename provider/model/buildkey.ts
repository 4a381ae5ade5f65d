// The build key: what an image is built from, hashed. Two builds with the
// same key produce the same image, so a changed key is exactly when an image
// (and everything derived from it) must be rebuilt.
import type { ImageConfig } from "./config";
import { canonicalJson, sha256 } from "./hash";
import { canonicalSize } from "./sizes";
import { DEFAULT_SIZE, imageFormat, isBootable, isRootBuild } from "./image";

/**
 * Bumped whenever the pipeline changes what it builds from the same inputs,
 * so existing images are rebuilt by the new pipeline. 2: root images no
 * longer carry the build host's hostname and resolv.conf; chmod modes are
 * octal in both backends; uploads keep their mode and owner.
 */
export const PIPELINE_VERSION = 2;

/**
 * The sources of the pipeline that PIPELINE_VERSION was decided for: a
 * fingerprint of every file that decides what an image contains
 * (test/unit/pipeline.test.ts computes it and says what to do when it
 * changes). Updating it without bumping the version says "same images".
 * Last updated for the process layer's move into rooms (builder/) and a
 * fingerprint that now follows the backends' imports, the model's included;
 * the direct backend's step names say "sandbox" where they said "chroot":
 * the same files, so images already built stay. Then for the .deb cache
 * looking a downloaded file's name and size up before it reads it, the
 * sandbox's empty environment and the direct backend's mmdebstrap's (the
 * provider's environment was never part of the key), and parents opened
 * without their backing chain (one that names a backing or data file is
 * refused): the same files again.
 */
export const PIPELINE_SOURCES = "93ca2f67395f038dbfd1780f624cdca32b7f9d8e386e1970ecf9cf273c5e6463";

export interface BuildKeyInputs {
  image: ImageConfig;
  /** "guestfs" or "direct": the backend that builds it. */
  backend: string;
  suite: string;
  mirror?: string;
  /** The parent's build key, for a parent of the forest. */
  parentBuildKey?: string;
  /** Identity of an external parent image file (size, mtime, inode). */
  parentFile?: string;
  /** hashLocalInputs() of the image. */
  fileHashes: Record<string, string>;
}

export function buildKey(inputs: BuildKeyInputs): string {
  const { image } = inputs;
  const material = {
    pipeline: PIPELINE_VERSION,
    format: imageFormat(image.name),
    root: isRootBuild(image),
    bootable: isBootable(image),
    // In bytes: 8G, 8GiB and 8589934592 are one size; a growth keeps its "+".
    size: image.size !== undefined || isRootBuild(image) ? canonicalSize(image.size ?? DEFAULT_SIZE, isRootBuild(image)) : undefined,
    // Installation order does not change the result; duplicates neither.
    packages: [...new Set(image.packages)].sort(),
    // Order does matter for actions; their comments do not.
    actions: image.actions.map(({ comment: _comment, ...rest }) => rest),
    backend: inputs.backend,
    suite: isRootBuild(image) ? inputs.suite : undefined,
    mirror: isRootBuild(image) ? inputs.mirror : undefined,
    parentBuildKey: inputs.parentBuildKey,
    parentFile: inputs.parentFile,
    files: inputs.fileHashes,
  };
  return sha256(canonicalJson(material));
}
