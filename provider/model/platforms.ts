// Platforms of published images, pure: `--platform` read as Docker reads
// it, which platform a manifest or config says (none is amd64, as every
// artifact published before the architecture was recorded), which entry of
// a multi-platform index a pull takes, and what a tag shared by several
// architectures holds after one of them is published: a plain manifest
// while there is one platform, an OCI image index with one entry per
// platform once there are two, where a publish replaces only its own.
import { ociPlatform, platformString } from "./arch";

export { platformString };
import { ARCH_ANNOTATION, manifestAnnotations } from "./oci";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** An OCI descriptor: one manifest of an index. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export const INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json";
const INDEX_TYPES = [INDEX_MEDIA_TYPE, "application/vnd.docker.distribution.manifest.list.v2+json"];

/** The platform of an artifact that says none: amd64, as lvh and every image published before the architecture was recorded. */
export const UNSPECIFIED_PLATFORM: Platform = ociPlatform("amd64");

export class PlatformError extends Error {}

/** Architecture names other tools use for ours (containerd's normalization). */
const ARCH_ALIASES: Record<string, string> = { x86_64: "amd64", "x86-64": "amd64", aarch64: "arm64", armhf: "arm", armel: "arm", i386: "386" };

/**
 * `--platform` as Docker reads it: `os/arch[/variant]`, or `arch` alone
 * (linux), as lvh's `--qemu-arch` passes it.
 */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().toLowerCase().split("/");
  if (parts.some((p) => !/^[a-z0-9._-]+$/.test(p)) || parts.length > 3) {
    throw new PlatformError(`${JSON.stringify(text)} is not a platform: os/arch[/variant], such as linux/arm64`);
  }
  const [os, architecture, variant] = parts.length === 1 ? ["linux", parts[0]] : parts;
  return { os, architecture: ARCH_ALIASES[architecture] ?? architecture, ...(variant ? { variant } : {}) };
}

/** The variant an architecture has when none is said (arm64 is v8, arm v7; others have none). */
function variantOf(p: Platform): string {
  const v = p.variant ?? "";
  if (p.architecture === "arm64") return v === "8" ? "v8" : v || "v8";
  if (p.architecture === "arm") return v || "v7";
  if (p.architecture === "amd64") return v === "v1" ? "" : v;
  return v;
}

/** The same platform, variants normalized (linux/arm64 is linux/arm64/v8): entries a publish replaces. */
export function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && variantOf(a) === variantOf(b);
}

/** What a pull asked for takes this platform: a variant is compared only when one was asked for. */
export function satisfies(found: Platform, wanted: Platform): boolean {
  if (found.os !== wanted.os || found.architecture !== wanted.architecture) return false;
  return wanted.variant === undefined || variantOf(found) === variantOf(wanted);
}

function asPlatform(v: unknown): Platform | undefined {
  const o = v as { os?: unknown; architecture?: unknown; variant?: unknown } | null;
  if (!o || typeof o.architecture !== "string" || o.architecture === "") return undefined;
  return {
    os: typeof o.os === "string" && o.os ? o.os : "linux", architecture: o.architecture,
    ...(typeof o.variant === "string" && o.variant ? { variant: o.variant } : {}),
  };
}

/** The platform an image config (`crane config`'s JSON) says; none is amd64. */
export function configPlatform(config: string): Platform {
  try {
    return asPlatform(JSON.parse(config)) ?? UNSPECIFIED_PLATFORM;
  } catch {
    return UNSPECIFIED_PLATFORM;
  }
}

/** The platform a manifest's own annotation says (ours, since the architecture is recorded); undefined when it says none. */
export function annotatedPlatform(manifest: string): Platform | undefined {
  const arch = manifestAnnotations(manifest)[ARCH_ANNOTATION];
  return arch ? ociPlatform(arch) : undefined;
}

/** A manifest as `crane manifest` prints it: an index (its entries) or a plain manifest. */
export type ParsedManifest = { kind: "index"; manifests: Descriptor[] } | { kind: "manifest"; mediaType: string };

export function parseManifest(text: string): ParsedManifest {
  const m = JSON.parse(text) as { mediaType?: string; manifests?: unknown[] };
  if (INDEX_TYPES.includes(m.mediaType ?? "") || (m.mediaType === undefined && Array.isArray(m.manifests))) {
    const manifests = (m.manifests ?? []).filter((d): d is Descriptor => {
      const o = d as Partial<Descriptor> | null;
      return !!o && typeof o.digest === "string" && typeof o.mediaType === "string" && typeof o.size === "number";
    });
    return { kind: "index", manifests };
  }
  return { kind: "manifest", mediaType: m.mediaType ?? "application/vnd.oci.image.manifest.v1+json" };
}

/** The platforms an index lists, as `crane index list` spells them. */
export function listedPlatforms(manifests: Descriptor[]): string[] {
  return manifests.map((d) => (asPlatform(d.platform) ? platformString(asPlatform(d.platform)!) : "(no platform)"));
}

/** The entry of an index a pull of `wanted` takes; throws naming the reference and what it lists. */
export function selectEntry(ref: string, manifests: Descriptor[], wanted: Platform): Descriptor {
  const hit = manifests.find((d) => {
    const p = asPlatform(d.platform);
    return p !== undefined && satisfies(p, wanted);
  });
  if (hit) return hit;
  throw new PlatformError(`${ref}: no image for ${platformString(wanted)}: it lists ${listedPlatforms(manifests).join(", ") || "nothing"}`);
}

/** Why a plain manifest of `found` does not do for a pull of `wanted`, or undefined when it does. */
export function platformMismatch(ref: string, found: Platform, wanted: Platform): string | undefined {
  if (satisfies(found, wanted)) return undefined;
  return `${ref} is an image for ${platformString(found)}, not ${platformString(wanted)} as asked ` +
    `(it is a single-platform image: pull it with --platform ${platformString(found)}, or publish the ${platformString(wanted)} image under the same tag)`;
}

/** What a tag holds now, as the publish of a shared tag reads it. */
export type TagState =
  | { kind: "absent" }
  | { kind: "manifest"; descriptor: Descriptor; platform: Platform }
  | { kind: "index"; digest: string; manifests: Descriptor[] };

/** What the tag is to hold: the new manifest itself, an index (its exact body), or what it holds already. */
export type TagUpdate = { kind: "manifest" } | { kind: "index"; body: string } | { kind: "unchanged" };

/**
 * A tag after the manifest `entry` (with its platform) is published under
 * it: the manifest itself where the tag is absent or holds the same
 * platform only; else an index of the entries of other platforms, in their
 * order, and `entry` in place of its platform's (or last).
 */
export function nextTag(state: TagState, entry: Descriptor & { platform: Platform }): TagUpdate {
  if (tagHolds(state, entry)) return { kind: "unchanged" };
  if (state.kind === "absent") return { kind: "manifest" };
  const existing = state.kind === "manifest" ? [descriptor({ ...state.descriptor, platform: state.platform })] : state.manifests;
  const ours = (d: Descriptor) => d.platform !== undefined && asPlatform(d.platform) !== undefined && samePlatform(asPlatform(d.platform)!, entry.platform);
  const others = existing.filter((d) => !ours(d));
  // A plain manifest of the same platform is replaced by the new one; an index stays one.
  if (others.length === 0 && state.kind === "manifest") return { kind: "manifest" };
  const at = existing.findIndex(ours);
  const manifests = [...others];
  manifests.splice(at < 0 ? others.length : at, 0, descriptor(entry));
  return { kind: "index", body: indexBody(manifests) };
}

/** Whether a tag gives `entry` to a pull of its platform (what a publish checks after it wrote). */
export function tagHolds(state: TagState, entry: Descriptor & { platform: Platform }): boolean {
  if (state.kind === "absent") return false;
  if (state.kind === "manifest") return state.descriptor.digest === entry.digest;
  const p = (d: Descriptor) => asPlatform(d.platform);
  const mine = state.manifests.filter((d) => p(d) !== undefined && samePlatform(p(d)!, entry.platform));
  return mine.length === 1 && mine[0].digest === entry.digest;
}

/** A descriptor with only its fields, in a fixed order. */
function descriptor(d: Descriptor): Descriptor {
  return {
    mediaType: d.mediaType, digest: d.digest, size: d.size,
    ...(d.platform ? { platform: { architecture: d.platform.architecture, os: d.platform.os, ...(d.platform.variant ? { variant: d.platform.variant } : {}) } } : {}),
    ...(d.annotations ? { annotations: d.annotations } : {}),
  };
}

/** An OCI image index's exact bytes, its entries as given (another's entries kept whole): the same entries give the same digest. */
export function indexBody(manifests: Descriptor[]): string {
  return JSON.stringify({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests });
}
