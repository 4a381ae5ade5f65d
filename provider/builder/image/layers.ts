// Layers on disk (model/layers.ts says what they are): a parent's bytes
// kept under a name that holds their content digest, beside the overlays
// that read them. A layer is a hard link to the parent's file where it can
// be (no copy; a rebuilt parent is a new file, the old one lives on as the
// layer), else a copy, and is hashed once when made: it holds the digest its
// name says. Its identity then is recorded beside it (`<layer>.verified`),
// so a later use trusts an unchanged file without reading it again, and
// hashes a changed one, which fails with its name. Layers that no image in
// the directory reads any more are removed (sweepLayers).
import * as fs from "node:fs";
import * as path from "node:path";
import { identityOf, sameIdentity } from "../../model/identity";
import { imageFormat } from "../../model/image";
import { layerName, parseLayerName, parseQcow2Header, type Qcow2Header, unusedLayers } from "../../model/layers";
import { alive } from "../run/proc";
import type { Logger } from "../run/log";
import { writeFileAtomicSync } from "../run/files";
import { MINUTE, run } from "../run/exec";
import { contentDigest } from "./digest";
import type { Step } from "../run/steps";
import { DIGEST_PATTERN } from "../../model/oci";

/** A qcow2 file's header; undefined for a file that is no qcow2. */
function headerOf(file: string): Qcow2Header | undefined {
  const fd = fs.openSync(file, "r");
  try {
    const head = Buffer.alloc(4096);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    return parseQcow2Header(head.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
}

/** The backing file name a qcow2 file's header holds; undefined for none, or a file that is no qcow2. */
export function backingFileOf(file: string): string | undefined {
  return headerOf(file)?.backingFile;
}

/** The size of the disk an image file holds, as the guest sees it: a qcow2's virtual size, a raw file's size. */
export function virtualBytesOf(file: string): number {
  return headerOf(file)?.virtualBytes ?? fs.statSync(file).size;
}

const verifiedPath = (layer: string) => `${layer}.verified`;
const PART = /^(\..+@sha256-[0-9a-f]{64})\.(part|pin)-(\d+)$/;

/** A layer's digest checked against its name: by its recorded identity when unchanged, else by hashing it (and recorded). */
async function verifyLayer(layer: string, what: string, signal?: AbortSignal): Promise<void> {
  const parsed = parseLayerName(path.basename(layer))!;
  if (!fs.existsSync(layer)) {
    throw new Error(`${what}: its parent layer ${layer} is missing (the parent ${parsed.name} at ${parsed.digest}); ` +
      "pull the image again (its parent comes with it) or rebuild it");
  }
  try {
    const recorded = JSON.parse(fs.readFileSync(verifiedPath(layer), "utf8"));
    if (sameIdentity(identityOf(layer), recorded)) return;
  } catch {
    // no record: hashed below
  }
  const digest = await contentDigest(layer, signal);
  if (digest !== parsed.digest) {
    throw new Error(`${what}: its parent layer ${layer} is altered: its content is ${digest}, its name says ${parsed.digest} ` +
      "(was the parent's file written to in place?); rebuild the image");
  }
  writeFileAtomicSync(verifiedPath(layer), JSON.stringify(identityOf(layer)));
}

/**
 * Check a file's backing chain, as qemu will follow it: each backing file
 * one of our layers (a plain name in the same directory), present, and
 * holding the digest its name says. Returns the layers, nearest first.
 * A file that is no qcow2, or names no backing file, has an empty chain.
 */
export async function checkChain(file: string, what: string, signal?: AbortSignal): Promise<string[]> {
  const chain: string[] = [];
  for (let at = file, backing = backingFileOf(file); backing !== undefined; at = chain[chain.length - 1], backing = backingFileOf(at)) {
    if (!parseLayerName(backing)) {
      throw new Error(`${what}: ${at} names a backing file (${backing}) that is not a layer of ours: refused`);
    }
    const layer = path.join(path.dirname(file), backing);
    if (chain.includes(layer) || chain.length > 64) throw new Error(`${what}: the backing chain of ${file} loops at ${backing}`);
    await verifyLayer(layer, what, signal);
    chain.push(layer);
  }
  return chain;
}

export interface LayerRequest {
  /** The directory of the overlay that will read the layer. */
  dir: string;
  /** The parent's image name and file, and the content digest the child is built on. */
  parentName: string;
  parentPath: string;
  digest: string;
  /** The image that needs it, for messages. */
  image: string;
  log: Logger;
  signal?: AbortSignal;
}

/**
 * The parent's layer in `dir`, made from the parent's file when missing:
 * linked (or copied), hashed, and refused unless it holds `digest`.
 * Returns its name, relative to `dir`, as an overlay names it. The layer
 * is pinned for this process (`<layer>.pin-<pid>`) until `unpin` is called.
 */
export async function ensureLayer(req: LayerRequest): Promise<{ name: string; unpin: () => void }> {
  const name = layerName(req.parentName, req.digest);
  const layer = path.join(req.dir, name);
  const pin = `${layer}.pin-${process.pid}`;
  fs.writeFileSync(pin, "");
  const unpin = () => fs.rmSync(pin, { force: true });
  try {
    if (fs.existsSync(layer)) {
      await verifyLayer(layer, `image "${req.image}"`, req.signal);
      // Its own chain too: a layer of an overlay parent reads its parent's layer.
      await checkChain(layer, `image "${req.image}"`, req.signal);
      return { name, unpin };
    }
    if (imageFormat(req.parentName) === "qcow2" && backingFileOf(req.parentPath) !== undefined) {
      // An overlay parent: its backing name resolves in its own directory, so the layer must be beside it.
      if (path.resolve(path.dirname(req.parentPath)) !== path.resolve(req.dir)) {
        throw new Error(`image "${req.image}": its parent ${req.parentPath} is an overlay in another directory; build both in one images directory`);
      }
      await checkChain(req.parentPath, `image "${req.image}"`, req.signal);
    }
    const part = `${layer}.part-${process.pid}`;
    try {
      try {
        fs.linkSync(req.parentPath, part);
      } catch {
        fs.copyFileSync(req.parentPath, part);
      }
      const digest = await contentDigest(part, req.signal, req.image);
      if (digest !== req.digest) {
        throw new Error(`image "${req.image}": its parent ${req.parentPath} holds ${digest}, not the ${req.digest} it is built on; ` +
          "the parent changed since: run up again");
      }
      fs.renameSync(part, layer);
    } finally {
      fs.rmSync(part, { force: true });
    }
    writeFileAtomicSync(verifiedPath(layer), JSON.stringify(identityOf(layer)));
    req.log.line(req.image, `parent layer ${name} (${req.parentName} as it is now)`);
    return { name, unpin };
  } catch (err) {
    unpin();
    throw err;
  }
}

/**
 * Remove the layers in `dir` that no image, in-progress build or used
 * layer reads, with their records, and what killed builds left of layers.
 * Returns the names removed.
 */
export function sweepLayers(dir: string, log?: Logger, label = "layers"): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const files = new Map<string, string | undefined>();
  const pins: string[] = [];
  for (const entry of entries) {
    const part = PART.exec(entry);
    if (part) {
      if (alive(Number(part[3]))) {
        if (part[2] === "pin") pins.push(part[1]);
      } else {
        fs.rmSync(path.join(dir, entry), { force: true });
      }
      continue;
    }
    if (entry.endsWith(".verified") || entry.endsWith(".log")) continue;
    const file = path.join(dir, entry);
    try {
      if (!fs.statSync(file).isFile()) continue;
      files.set(entry, backingFileOf(file));
    } catch {
      // gone meanwhile, or unreadable: not a reader
    }
  }
  const removed = unusedLayers(files, pins);
  for (const layer of removed) {
    fs.rmSync(path.join(dir, layer), { force: true });
    fs.rmSync(verifiedPath(path.join(dir, layer)), { force: true });
    log?.line(label, `removed ${layer}: no image reads it any more`);
  }
  for (const entry of entries) {
    // A record whose layer is gone.
    if (entry.endsWith(".verified") && parseLayerName(entry.slice(0, -".verified".length)) && !fs.existsSync(path.join(dir, entry.slice(0, -".verified".length)))) {
      fs.rmSync(path.join(dir, entry), { force: true });
    }
  }
  return removed;
}

/**
 * Make `flat` (a finished qcow2 image in `dir`) an overlay on `layer` (a
 * layer name in the same directory) holding only the clusters where the two
 * differ: an empty overlay on the flat file, rebased onto the layer (qemu-img
 * rebase writes into it whatever reads differently through the layer). The
 * result replaces `flat`.
 */
export async function writeOverlay(flat: string, layer: string, ctx: { image: string; log: Logger; signal: AbortSignal }): Promise<void> {
  const dir = path.dirname(flat);
  const overlay = path.join(dir, `.${ctx.image}.overlay-${process.pid}`);
  const parsed = parseLayerName(layer);
  if (!parsed) throw new Error(`not a layer name: ${layer}`);
  const common = { label: `${ctx.image} qemu-img`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE };
  try {
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-b", path.basename(flat), "-F", "qcow2", overlay], common);
    await run("qemu-img", ["rebase", "-f", "qcow2", "-b", layer, "-F", imageFormat(parsed.name), overlay], common);
    fs.renameSync(overlay, flat);
  } finally {
    fs.rmSync(overlay, { force: true });
  }
}

/**
 * The step that makes a derived qcow2 image (`target`, flat, in `dir`) an
 * overlay on its parent's layer: the layer made (or found) first, and
 * pinned until the build ends (the unpin goes to `pins`). A parent without
 * a known digest (a file given by name) is hashed. `flat` is told the
 * bytes the flat file took.
 */
export function overlayStep(
  o: { dir: string; parentName: string; parentPath: string; parentDigest?: string; target: string; flat: (bytes: number) => void }, pins: (() => void)[],
): Step {
  return {
    name: "write as overlay (qemu-img rebase)",
    do: async (ctx) => {
      const digest = o.parentDigest && DIGEST_PATTERN.test(o.parentDigest) ? o.parentDigest : await contentDigest(o.parentPath, ctx.signal, ctx.image);
      const layer = await ensureLayer({ dir: o.dir, parentName: o.parentName, parentPath: o.parentPath, digest, image: ctx.image, log: ctx.log, signal: ctx.signal });
      pins.push(layer.unpin);
      // What the same image takes on disk as a standalone file, for the summary's comparison.
      o.flat(fs.statSync(o.target).blocks * 512);
      await writeOverlay(o.target, layer.name, ctx);
    },
  };
}
