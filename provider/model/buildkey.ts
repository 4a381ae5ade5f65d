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
 * refused): the same files again. Then for derived images keyed by their
 * parent's content digest, hashed once the file is final: the same images
 * (a derived image's key changes with its material, not with this version).
 */
export const PIPELINE_SOURCES = "a896989bd7d917e0aeafcb9c27099f9b28e8a7489a6f3d2ed6bcfc9a84f7d3e7";

export interface BuildKeyInputs {
  image: ImageConfig;
  /** "guestfs" or "direct": the backend that builds it. */
  backend: string;
  suite: string;
  mirror?: string;
  /**
   * The content digest of a parent of the forest ("sha256:<hex>"): its
   * bytes, not what it was built from, so a parent rebuilt to the same bytes
   * leaves this key as it was (early cutoff).
   */
  parentDigest?: string;
  /** What identifies an external parent's content when the program says (such as a pulled image's digest). */
  parentKey?: string;
  /** Identity of an external parent image file (size, mtime, inode), when nothing else identifies it. */
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
    parentDigest: inputs.parentDigest,
    parentKey: inputs.parentKey,
    parentFile: inputs.parentFile,
    files: inputs.fileHashes,
  };
  return sha256(canonicalJson(material));
}
