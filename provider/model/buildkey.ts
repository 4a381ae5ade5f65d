// The build key: what an image is built from, hashed. Two builds with the
// same key produce the same image, so a changed key is exactly when an image
// (and everything derived from it) must be rebuilt.
import type { ImageConfig } from "./config";
import { canonicalJson, sha256 } from "./hash";
import { canonicalSize } from "./sizes";
import { DEFAULT_SIZE, imageFormat, isBootable, isRootBuild } from "./image";
import { type Layering, layeredAsOverlay } from "./layers";

/**
 * Bumped whenever the pipeline changes what it builds from the same inputs,
 * so existing images are rebuilt by the new pipeline. 2: root images no
 * longer carry the build host's hostname and resolv.conf; chmod modes are
 * octal in both backends; uploads keep their mode and owner. 3: the direct
 * backend's images are reproducible (the file system made again from its
 * files, times at the source date, fixed ids, no build logs or caches).
 * 4: the direct backend's derived images are their parent's file system
 * with the changes written in (its blocks, ids and journal kept), not a new
 * file system made from their files.
 */
export const PIPELINE_VERSION = 4;

/**
 * The sources of the pipeline that PIPELINE_VERSION was decided for: a
 * fingerprint of every file that decides what an image contains
 * (test/unit/pipeline.test.ts computes it and says what to do when it
 * changes). Updating it without bumping the version says "same images".
 * Last updated for version 4 (derived images edited in place, with
 * copy-on-write children as an option).
 */
export const PIPELINE_SOURCES = "75f8599f9e8348855ec31093239c1dc2ad8d781912c9ed98b99a04d82f8c4251";

export interface BuildKeyInputs {
  image: ImageConfig;
  /** "guestfs" or "direct": the backend that builds it. */
  backend: string;
  /** The Debian architecture (vm-images:arch); unset: amd64. */
  arch?: string;
  suite: string;
  mirror?: string;
  /** The mirror is a snapshot (vm-images:snapshot): its images' apt does not check Valid-Until. */
  snapshot?: boolean;
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
  /** How a qcow2 derived image is stored (layers.ts); only an overlay's key says it. */
  layering?: Layering;
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
    // amd64 images keep the keys they had before the setting existed.
    arch: inputs.arch === undefined || inputs.arch === "amd64" ? undefined : inputs.arch,
    suite: isRootBuild(image) ? inputs.suite : undefined,
    mirror: isRootBuild(image) ? inputs.mirror : undefined,
    snapshot: isRootBuild(image) && inputs.snapshot ? true : undefined,
    parentDigest: inputs.parentDigest,
    parentKey: inputs.parentKey,
    parentFile: inputs.parentFile,
    files: inputs.fileHashes,
    // An overlay is other bytes than the flat file; roots, raw images and flat ones keep the keys they had.
    ...(layeredAsOverlay(image, inputs.layering) ? { layering: "overlay" } : {}),
  };
  return sha256(canonicalJson(material));
}
