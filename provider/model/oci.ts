// Published images in lvh-images' layout, pure: references, tags, which
// entries of a pulled image's file system are images, and the annotations
// we publish with. An lvh image holds `/data/images/<name>.zst`; anything
// else under data/images (links, devices, paths that escape) is refused.
import { DEFAULT_ARCH } from "./arch";
import type { TarEntry } from "./tar";

/** A file name of an image: no directory, no leading dot. */
export const IMAGE_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,200}$/;
/** An OCI tag (distribution spec): at most 128 characters. */
export const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** A sha256 digest as OCI and sha256sum-like tools write it. */
export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

export interface ParsedRef {
  /** Registry host (with port), such as 127.0.0.1:5000 or quay.io. */
  host: string;
  /** host/path, without tag or digest. */
  repository: string;
  tag?: string;
  digest?: string;
}

export class RefError extends Error {}

/** Parse `host[:port]/path[:tag][@sha256:...]`; the host part must be explicit (no Docker Hub default). */
export function parseRef(ref: string): ParsedRef {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_PATTERN.test(digest)) throw new RefError(`${JSON.stringify(ref)}: the digest must be sha256:<64 hex digits>`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new RefError(`${JSON.stringify(ref)}: ${JSON.stringify(tag)} is not a tag (${TAG.source})`);
  }
  const slash = rest.indexOf("/");
  const host = slash < 0 ? "" : rest.slice(0, slash);
  if (!host || !/[.:]|^localhost$/.test(host) || !/^[A-Za-z0-9.-]+(:[0-9]+)?$|^\[[0-9a-fA-F:]+\](:[0-9]+)?$/.test(host)) {
    throw new RefError(`${JSON.stringify(ref)}: name the registry host, such as 127.0.0.1:5000/team/images or quay.io/lvh-images/kind`);
  }
  const path = rest.slice(slash + 1);
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(path)) {
    throw new RefError(`${JSON.stringify(ref)}: ${JSON.stringify(path)} is not a repository path (lower case, digits, . _ - /)`);
  }
  return { host, repository: rest, tag, digest };
}

/** The host without its port. */
function hostname(host: string): string {
  return host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:[0-9]+$/, "");
}

export function isLoopback(host: string): boolean {
  const h = hostname(host);
  return h === "localhost" || h === "::1" || /^127\.[0-9]+\.[0-9]+\.[0-9]+$/.test(h);
}

/**
 * Hosts crane talks plain HTTP to without being asked (go-containerregistry
 * falls back to http for loopback, RFC 1918 addresses and `.local` names).
 * Beyond loopback we allow that only when the user says so.
 */
export function plainHttpFallback(host: string): boolean {
  const h = hostname(host);
  return isLoopback(host) || /^10\./.test(h) || /^192\.168\./.test(h) || /^172\.(1[6-9]|2[0-9]|3[01])\./.test(h) || h.endsWith(".local");
}

/** Why a registry may not be used as configured, or undefined if it may. */
export function registryRefusal(host: string, insecure: boolean): string | undefined {
  if (insecure || isLoopback(host) || !plainHttpFallback(host)) return undefined;
  return `${host} is a private address, for which crane would fall back to plain HTTP; ` +
    "set vm-images:insecureRegistry to true if that is intended (plain HTTP is allowed without it only on loopback)";
}

/** One entry of a pulled image's file system, as the tar reader gives it. */
export type LayoutEntry = Pick<TarEntry, "name" | "type" | "linkname">;

export class UnsafeEntryError extends Error {}

/**
 * Whether an entry of a pulled image's file system is an image to extract
 * (its file name, without `.zst`), something harmless to skip (`undefined`:
 * busybox's files, the data/images directories), or unsafe (throws).
 */
export function imageEntry(e: LayoutEntry): string | undefined {
  const raw = e.name;
  const bad = (why: string) => new UnsafeEntryError(`${JSON.stringify(raw)}: ${why}`);
  if (raw.includes("\0") || raw.includes("\\")) throw bad("unsafe characters in the name");
  if (raw.startsWith("/")) throw bad("an absolute path");
  const parts = raw.replace(/^(\.\/)+/, "").split("/").filter((p, i, a) => !(p === "" && i === a.length - 1));
  if (parts.includes("..")) throw bad("a path that escapes the image (..)");
  if (parts.some((p) => p === "" || p === ".")) throw bad("a non-canonical path");
  const inImages = parts[0] === "data" && (parts.length === 1 || parts[1] === "images");
  if (!inImages) {
    // Outside data/images the image may hold anything (busybox's links), but no link into data/images.
    if ((e.type === "hardlink" || e.type === "symlink") && /(^|\/)data\/images(\/|$)/.test(e.linkname.replace(/^\/+/, ""))) {
      throw bad(`a link into data/images (${e.linkname})`);
    }
    return undefined;
  }
  if (parts.length <= 2) {
    if (e.type !== "dir") throw bad(`must be a directory, is a ${e.type}`);
    return undefined;
  }
  if (parts.length > 3) throw bad("nested paths under data/images are not images");
  const base = parts[2];
  if (e.type !== "file") throw bad(`a ${e.type}${e.linkname ? ` to ${e.linkname}` : ""}; only regular files and directories are allowed`);
  if (base.startsWith(".wh.")) throw bad("a whiteout in a flattened image");
  const image = base.endsWith(".zst") ? base.slice(0, -".zst".length) : "";
  if (!IMAGE_FILE_NAME.test(image)) throw bad(`not <image>.zst with an image file name (${IMAGE_FILE_NAME.source})`);
  return image;
}

/** What we publish an image with: the manifest's annotations. */
export interface PublishedImageFacts {
  name: string;
  buildKey: string;
  /** The image file's sha256, "sha256:<hex>" (not the layer's: that is of the compressed tar). */
  digest?: string;
  /** A parent of the forest's build key (its artifact's tag) and content digest (part of this image's build key). */
  parentBuildKey?: string;
  parentDigest?: string;
  /** An overlay's: its parent's artifact (repository@digest) and the layer name its header holds. */
  parentArtifact?: string;
  backingFile?: string;
  suite: string;
  backend: string;
  /** Its Debian architecture (vm-images:arch). @default "amd64" */
  arch?: string;
  created: string;
  /** Its SBOM's layer (the blob's digest, "sha256:<hex>"), and what it lists. */
  sbomLayer?: string;
  installedPackages?: { count: number; digest: string };
}

export const ANNOTATION_PREFIX = "io.github.pulumi-vm-images";

/** The annotation that holds the image's Debian architecture (the config holds its OCI platform). */
export const ARCH_ANNOTATION = `${ANNOTATION_PREFIX}.arch`;

/** The annotation that holds the image file's content digest. */
export const CONTENT_DIGEST_ANNOTATION = `${ANNOTATION_PREFIX}.content-digest`;

/** An overlay's annotations: its parent's artifact, and the backing file (layer) name its header holds. */
export const PARENT_ARTIFACT_ANNOTATION = `${ANNOTATION_PREFIX}.parent-artifact`;
export const BACKING_FILE_ANNOTATION = `${ANNOTATION_PREFIX}.backing-file`;

/** The layer that holds an image's SBOM (`crane blob REPOSITORY@DIGEST` fetches it without the image), and the installed packages it lists. */
export const SBOM_ANNOTATION = `${ANNOTATION_PREFIX}.sbom`;
export const INSTALLED_PACKAGES_ANNOTATION = `${ANNOTATION_PREFIX}.installed-packages`;

/** Where a published image's SBOM is, in its layer (lvh reads data/images/ only). */
export const sbomEntry = (image: string) => `data/sbom/${image}.cdx.json`;

/** The string annotations of a published manifest (`crane manifest`'s JSON); none for one that does not parse. */
export function manifestAnnotations(manifest: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifest);
  } catch {
    return {};
  }
  const all = (parsed as { annotations?: Record<string, unknown> } | null)?.annotations ?? {};
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => typeof e[1] === "string"));
}

/** The content digest a published manifest (`crane manifest`'s JSON) says its image has; undefined when it says none. */
export function publishedContentDigest(manifest: string): string | undefined {
  const value = manifestAnnotations(manifest)[CONTENT_DIGEST_ANNOTATION];
  return value !== undefined && DIGEST_PATTERN.test(value) ? value : undefined;
}

/** The tag that finds a published image by its content digest ("sha256:<hex>"): `content-sha256-<hex>`, 79 characters. */
export function contentTag(digest: string): string {
  if (!DIGEST_PATTERN.test(digest)) throw new Error(`not a content digest: ${digest}`);
  return `content-sha256-${digest.slice("sha256:".length)}`;
}

export function publishAnnotations(f: PublishedImageFacts): Record<string, string> {
  return {
    "org.opencontainers.image.title": f.name,
    "org.opencontainers.image.created": f.created,
    [`${ANNOTATION_PREFIX}.build-key`]: f.buildKey,
    ...(f.digest ? { [CONTENT_DIGEST_ANNOTATION]: f.digest } : {}),
    ...(f.parentBuildKey ? { [`${ANNOTATION_PREFIX}.parent-build-key`]: f.parentBuildKey } : {}),
    ...(f.parentDigest && DIGEST_PATTERN.test(f.parentDigest) ? { [`${ANNOTATION_PREFIX}.parent-content-digest`]: f.parentDigest } : {}),
    ...(f.parentArtifact ? { [PARENT_ARTIFACT_ANNOTATION]: f.parentArtifact } : {}),
    ...(f.backingFile ? { [BACKING_FILE_ANNOTATION]: f.backingFile } : {}),
    ...(f.sbomLayer ? { [SBOM_ANNOTATION]: f.sbomLayer, [`${SBOM_ANNOTATION}-format`]: "CycloneDX 1.5 JSON" } : {}),
    ...(f.installedPackages ? { [INSTALLED_PACKAGES_ANNOTATION]: `${f.installedPackages.count} ${f.installedPackages.digest}` } : {}),
    [`${ANNOTATION_PREFIX}.suite`]: f.suite,
    [`${ANNOTATION_PREFIX}.backend`]: f.backend,
    [ARCH_ANNOTATION]: f.arch ?? DEFAULT_ARCH,
  };
}

/** The human tag of an image for a stack's `vm-images:tag`: one repository holds every image, so the tag names the image. */
export function humanTag(tag: string, image: string): string {
  const t = `${image}-${tag}`.replace(/[^A-Za-z0-9_.-]/g, "_");
  return t.length > 128 ? t.slice(0, 128) : t;
}
