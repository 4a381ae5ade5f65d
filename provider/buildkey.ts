// The build key: what an image is built from, hashed. Two builds with the
// same key produce the same image, so a changed key is exactly when an image
// (and everything derived from it) must be rebuilt.
import { sha256 } from "./files";
import type { ImageConfig } from "./schema";

/**
 * Bumped whenever the pipeline changes what it builds from the same inputs,
 * so existing images are rebuilt by the new pipeline.
 */
export const PIPELINE_VERSION = 1;

export const DEFAULT_SIZE = "8G";

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

/** Canonical JSON: object keys sorted at every level, so key order never matters. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Whether the image is built from scratch (mmdebstrap) rather than from a parent's disk. */
export function isRootBuild(image: ImageConfig): boolean {
  return image.parent === undefined;
}

/** lvh's default: root images on amd64 are bootable unless told otherwise. */
export function isBootable(image: ImageConfig): boolean {
  return isRootBuild(image) && image.bootable !== false;
}

export function buildKey(inputs: BuildKeyInputs): string {
  const { image } = inputs;
  const material = {
    pipeline: PIPELINE_VERSION,
    format: image.name.endsWith(".qcow2") ? "qcow2" : "raw",
    root: isRootBuild(image),
    bootable: isBootable(image),
    size: image.size ?? (isRootBuild(image) ? DEFAULT_SIZE : undefined),
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
