// Overlays in the registry (vm-images:layering overlay): a published
// overlay holds only its delta and names its parent, by its layer name
// (`.<parent>@sha256-<hex>`, the backing file its header holds), by the
// parent's artifact (an annotation) and by the content tag every image is
// published with. A pull installs the layers an overlay reads beside it,
// each fetched from the registry when it is missing or does not hold its
// digest, checked against the digest its name holds, recursively (a parent
// may be an overlay too). A parent whose own file is there already (pulled
// or built before its child) is linked to its layer name, not fetched again.
// Publishing an overlay finds its parent's artifact.
import * as fs from "node:fs";
import * as path from "node:path";
import { parentArtifactRef, parseLayerName } from "../../model/layers";
import { CONTENT_DIGEST_ANNOTATION, contentTag, manifestAnnotations, parseRef, TAG } from "../../model/oci";
import { backingFileOf, layerState, pinLayer, recordVerified } from "../image/layercheck";
import { contentDigest } from "../image/digest";
import { MINUTE, run } from "../run/exec";
import { renameDurably } from "../run/files";
import { crane, RegistryError } from "./crane";
import { extractImages, type FetchRequest, resolveDigest } from "./fetch";

/** The annotations of a pinned artifact (repository@digest), from its manifest. */
export async function annotationsOf(pinned: string, req: FetchRequest): Promise<Record<string, string>> {
  const manifest = await crane(`reading ${pinned}`, parseRef(pinned).host, ["manifest", pinned], {
    log: req.log, label: req.label, signal: req.signal, session: req.session, insecure: req.insecure, timeoutMs: 2 * 60_000,
  });
  return manifestAnnotations(manifest);
}

/** Where a chain is installed: the images directory, the repository parents are looked up in, and the pins taken. */
export interface ChainTarget {
  dir: string;
  repository: string;
  /** Each layer installed or found is pinned until the caller has its image in place. */
  unpins: (() => void)[];
}

/**
 * Install the layers that `file` (a pulled image, `image` by name, with its
 * artifact's `annotations`) reads into `target.dir`: each a layer name,
 * kept when it holds its digest, else linked from the parent's file beside
 * it when that holds the digest, else fetched from the registry (the
 * parent's artifact, else its content tag), checked, and renamed into place.
 * A file that names no backing file needs nothing.
 */
export async function installChain(file: string, image: string, annotations: Record<string, string>, target: ChainTarget, req: FetchRequest, depth = 0): Promise<void> {
  const backing = backingFileOf(file);
  if (backing === undefined) return;
  if (depth > 64) throw new Error(`${image}: its backing chain is longer than 64 layers: refused`);
  let where: ReturnType<typeof parentArtifactRef>;
  try {
    where = parentArtifactRef(target.repository, annotations, backing);
  } catch (err) {
    throw new Error(`${image}: ${(err as Error).message}`);
  }
  const { layer } = where;
  if (where.ignored) req.log.line(req.label, `${image}: ${where.ignored}: its parent is looked up as ${where.ref}`);
  const installed = path.join(target.dir, backing);
  target.unpins.push(pinLayer(installed));
  const state = await layerState(installed, req.signal);
  if (state === "ok") {
    // Its own chain too: the layer of an overlay parent reads its parent's layer (found by content tag).
    await installChain(installed, layer.name, {}, target, req, depth + 1);
    return;
  }
  if (state !== "missing") req.log.line(req.label, `${installed} is altered (it holds ${state.holds}, its name says ${layer.digest}): fetched again`);
  if (await linkParentFile(installed, layer, req)) {
    await installChain(installed, layer.name, {}, target, req, depth + 1);
    return;
  }
  let digest: string;
  try {
    digest = await resolveDigest({ ...req, ref: where.ref });
  } catch (err) {
    if (!(err instanceof RegistryError && err.notFound)) throw err;
    throw new Error(`${image}: its parent ${layer.name} at ${layer.digest} (the layer ${backing}) is not in ${target.repository}: ` +
      `${where.ref} is not there; publish the parent there, or pull an image published without layering`);
  }
  const pinned = `${target.repository}@${digest}`;
  const parentAnnotations = await annotationsOf(pinned, req);
  const staging = fs.mkdtempSync(path.join(target.dir, ".layer-"));
  try {
    await extractImages(pinned, staging, target.dir, { ...req, ref: pinned, expect: [layer.name], refuse: undefined, cache: false });
    const fetched = path.join(staging, layer.name);
    const holds = await contentDigest(fetched, req.signal, layer.name);
    if (holds !== layer.digest) {
      throw new Error(`${image}: its parent's artifact ${pinned} holds ${layer.name} at ${holds}, not the ${layer.digest} its layer ${backing} names: refused`);
    }
    await installChain(fetched, layer.name, parentAnnotations, target, req, depth + 1);
    renameDurably(fetched, installed);
    recordVerified(installed);
    req.log.line(req.label, `parent layer ${backing}: pulled ${pinned}`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * The layer made from the parent's own file beside it (`<dir>/<parent
 * name>`, as a pull of the parent or a build left it) when that file holds
 * the layer's digest: hashed (data extents only), then hard-linked to the
 * layer name (copied, sparse, where a link cannot be made) and recorded as
 * verified. Nothing is fetched then. False, with nothing written, when there
 * is no such file or it holds other bytes (another version of the parent).
 */
async function linkParentFile(installed: string, layer: { name: string; digest: string }, req: FetchRequest): Promise<boolean> {
  const parentFile = path.join(path.dirname(installed), layer.name);
  // A regular file only: a link to a symbolic link would be a layer that points elsewhere.
  if (!fs.lstatSync(parentFile, { throwIfNoEntry: false })?.isFile()) return false;
  const part = `${installed}.part-${process.pid}`;
  try {
    fs.rmSync(part, { force: true });
    try {
      fs.linkSync(parentFile, part);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK") throw err;
      await run("cp", ["--sparse=always", "--reflink=auto", "--", parentFile, part], {
        label: req.label, log: req.log, signal: req.signal, timeoutMs: 30 * MINUTE,
      });
    }
    // The link, not the name, is hashed: what is renamed into place is what was hashed, whatever the name points to by then.
    const holds = await contentDigest(part, req.signal, layer.name);
    if (holds !== layer.digest) {
      req.log.line(req.label, `${parentFile} holds ${holds}, not the layer's ${layer.digest}: the layer is fetched`);
      return false;
    }
    renameDurably(part, installed);
    recordVerified(installed);
    req.log.line(req.label, `parent layer ${path.basename(installed)}: linked from ${parentFile} (it holds ${layer.digest}), nothing fetched`);
    return true;
  } finally {
    fs.rmSync(part, { force: true });
  }
}

/**
 * What an overlay (`file`, about to be published to `repository`) is
 * published with: its layer name, and its parent's artifact, found by the
 * parent's build key tag, else by its content tag, and only if its content
 * digest annotation is the digest the layer name holds. Nothing for a file
 * that is no overlay. Throws when the parent is not published there.
 */
export async function overlayFacts(
  file: string, name: string, repository: string, parentBuildKey: string | undefined, req: Omit<FetchRequest, "ref">,
): Promise<{ parentArtifact?: string; backingFile?: string }> {
  const backing = fs.existsSync(file) ? backingFileOf(file) : undefined;
  if (backing === undefined) return {};
  const layer = parseLayerName(backing);
  if (!layer) throw new Error(`${name} names a backing file (${backing}) that is not a layer of ours: not published`);
  const refs = [...(parentBuildKey && TAG.test(parentBuildKey) ? [`${repository}:${parentBuildKey}`] : []), `${repository}:${contentTag(layer.digest)}`];
  for (const ref of refs) {
    let digest: string;
    try {
      digest = await resolveDigest({ ...req, ref }, { manifestOnly: true });
    } catch (err) {
      if (err instanceof RegistryError && err.notFound) continue;
      throw err;
    }
    const pinned = `${repository}@${digest}`;
    const annotated = (await annotationsOf(pinned, { ...req, ref: pinned }))[CONTENT_DIGEST_ANNOTATION];
    if (annotated === layer.digest) return { parentArtifact: pinned, backingFile: backing };
  }
  throw new Error(`${name} is an overlay on ${layer.name} at ${layer.digest}, which is not in ${repository} (looked up as ${refs.join(" and ")}): ` +
    "its parent is published first");
}
