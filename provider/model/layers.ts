// Copy-on-write children (vm-images:layering overlay): a qcow2 child holds
// only the clusters that differ from its parent, and names its parent by a
// relative file name that holds the parent's content digest, in the child's
// own directory: `.base.img@sha256-<hex>`. That file (a layer) is the
// parent's bytes as they were when the child was built; a parent rebuilt to
// other bytes is another layer, so an existing child never reads what it
// was not built on. A layer goes once no image or layer names it.
import { imageFormat } from "./image";
import { BACKING_FILE_ANNOTATION, contentTag, DIGEST_PATTERN, PARENT_ARTIFACT_ANNOTATION, parseRef } from "./oci";

/** How qcow2 children are stored: standalone files, as lvh writes them, or overlays on their parent. */
export const LAYERINGS = ["flat", "overlay"] as const;
export type Layering = (typeof LAYERINGS)[number];

/** Whether an image is written as an overlay on its parent: a derived qcow2 image, with layering `overlay`. */
export function layeredAsOverlay(image: { name: string; parent?: string }, layering: Layering | undefined): boolean {
  return layering === "overlay" && image.parent !== undefined && imageFormat(image.name) === "qcow2";
}

const LAYER = /^\.(.+)@sha256-([0-9a-f]{64})$/;

/** The layer file name of parent image `name` with content digest `digest` ("sha256:<hex>"). */
export function layerName(name: string, digest: string): string {
  if (!DIGEST_PATTERN.test(digest)) throw new Error(`not a content digest: ${digest}`);
  return `.${name}@sha256-${digest.slice("sha256:".length)}`;
}

/** The parent image name and content digest a layer file name holds; undefined for any other name. */
export function parseLayerName(file: string): { name: string; digest: string } | undefined {
  const m = LAYER.exec(file);
  if (!m || m[1].includes("/")) return undefined;
  return { name: m[1], digest: `sha256:${m[2]}` };
}

/** What a qcow2 file's header says of its backing file; undefined for a file that is no qcow2. */
export interface Qcow2Header {
  /** The disk's size as the guest sees it, in bytes. */
  virtualBytes: number;
  backingFile?: string;
}

const QCOW2_MAGIC = 0x514649fb;

/**
 * Read a qcow2 header (its first bytes, with the backing file name that
 * follows the header): enough for a 4 KiB read at offset 0 in practice,
 * the name is at most 1023 bytes.
 */
export function parseQcow2Header(head: Buffer): Qcow2Header | undefined {
  if (head.length < 20 || head.readUInt32BE(0) !== QCOW2_MAGIC) return undefined;
  if (head.length < 32) return undefined;
  const offset = Number(head.readBigUInt64BE(8));
  const size = head.readUInt32BE(16);
  const virtualBytes = Number(head.readBigUInt64BE(24));
  if (offset === 0 || size === 0) return { virtualBytes };
  if (offset + size > head.length) throw new Error(`qcow2 backing file name at ${offset} (+${size}) is past the header's first ${head.length} bytes`);
  return { virtualBytes, backingFile: head.subarray(offset, offset + size).toString("utf8") };
}

/** Whether a backing file name is one of our layers: a plain name in the same directory. */
export function isLayerReference(backingFile: string | undefined): boolean {
  return backingFile !== undefined && parseLayerName(backingFile) !== undefined;
}

/**
 * The layers in a directory that nothing uses: `files` maps each image,
 * layer and in-progress file to the backing file name its header holds (if
 * any); `pinned` are layers an unfinished build holds. A layer is used when
 * an image names it, or a used layer does.
 */
export function unusedLayers(files: ReadonlyMap<string, string | undefined>, pinned: Iterable<string> = []): string[] {
  const used = new Set<string>(pinned);
  const layers = [...files.keys()].filter((f) => parseLayerName(f));
  const follow = (name: string | undefined) => {
    for (let at = name; at !== undefined && parseLayerName(at) && !used.has(at);) {
      used.add(at);
      at = files.get(at);
    }
  };
  for (const [file, backing] of files) if (!parseLayerName(file)) follow(backing);
  for (const pin of [...used]) follow(files.get(pin));
  return layers.filter((l) => !used.has(l)).sort();
}

/**
 * Where a pulled overlay's parent is published, from the overlay's
 * repository, its manifest's annotations and the backing file name its
 * header holds: the artifact the annotation names when it is pinned in the
 * same repository, else the content tag of the digest the layer name holds
 * (an image copied to another repository finds its parent there).
 * `ignored` says why an annotated artifact is not used. Throws for a
 * backing file that is no layer name, or that the annotation names otherwise.
 */
export function parentArtifactRef(
  repository: string, annotations: Readonly<Record<string, string>>, backingFile: string,
): { ref: string; layer: { name: string; digest: string }; ignored?: string } {
  const layer = parseLayerName(backingFile);
  if (!layer) throw new Error(`its backing file ${JSON.stringify(backingFile)} is not a layer name (.<parent>@sha256-<hex>): refused`);
  const annotated = annotations[BACKING_FILE_ANNOTATION];
  if (annotated !== undefined && annotated !== backingFile) {
    throw new Error(`its header names the backing file ${backingFile}, its annotation ${annotated}: refused`);
  }
  const byContent = `${repository}:${contentTag(layer.digest)}`;
  const artifact = annotations[PARENT_ARTIFACT_ANNOTATION];
  if (artifact === undefined) return { ref: byContent, layer };
  let ignored: string;
  try {
    const parsed = parseRef(artifact);
    if (parsed.digest && !parsed.tag && parsed.repository === repository) return { ref: artifact, layer };
    ignored = parsed.repository !== repository ? `its parent artifact ${artifact} is in another repository` : `its parent artifact ${artifact} is not pinned by digest`;
  } catch {
    ignored = `its parent artifact ${JSON.stringify(artifact)} is no reference`;
  }
  return { ref: byContent, layer, ignored };
}
