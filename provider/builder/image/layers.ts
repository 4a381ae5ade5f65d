// Layers on disk (model/layers.ts says what they are): a parent's bytes
// kept under a name that holds their content digest, beside the overlays
// that read them. A layer is a hard link to the parent's file where it can
// be (no copy; a rebuilt parent is a new file, the old one lives on as the
// layer), else a copy, and is hashed once when made: it holds the digest its
// name says (layercheck.ts records it, and checks it on later uses). Layers
// that no image in the directory reads any more are removed (sweepLayers).
// A pulled overlay can be made a standalone file (flattenImage).
import * as fs from "node:fs";
import * as path from "node:path";
import { imageFormat } from "../../model/image";
import { layerName, parseLayerName, unusedLayers } from "../../model/layers";
import { alive } from "../run/proc";
import type { Logger } from "../run/log";
import { MINUTE, run } from "../run/exec";
import { renameDurably } from "../run/files";
import { backingFileOf, checkChain, virtualBytesOf, pinLayer, recordVerified, verifiedPath, verifyLayer } from "./layercheck";
import { contentDigest } from "./digest";
import type { Step } from "../run/steps";
import { DIGEST_PATTERN } from "../../model/oci";

export { backingFileOf, checkChain, virtualBytesOf };

/** What a build or pull in progress holds of a layer: `<layer>.part-<pid>` (being made), `<layer>.pin-<pid>` (in use). */
const PART = /^(\..+@sha256-[0-9a-f]{64})\.(part|pin)-(\d+)$/;

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
  const unpin = pinLayer(layer);
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
        // Another file system, or no links there: a copy, with the parent's holes (a raw root is mostly holes).
        await run("cp", ["--sparse=always", "--reflink=auto", req.parentPath, part], {
          label: `${req.image} cp`, log: req.log, signal: req.signal, timeoutMs: 30 * MINUTE,
        });
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
    recordVerified(layer);
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
 * result replaces `flat`. qemu-img rebase reads every byte of both disks:
 * read from a raw layer, its holes go through the page cache as zeros (an
 * 8 GiB root: about 45 s here), so it compares against a qcow2 copy of the
 * layer (only its data, copied where qemu-img's block status says there is
 * some), then names the layer itself in the header: the same content.
 */
export async function writeOverlay(flat: string, layer: string, ctx: { image: string; log: Logger; signal: AbortSignal }): Promise<void> {
  const dir = path.dirname(flat);
  const overlay = path.join(dir, `.${ctx.image}.overlay-${process.pid}`);
  const parsed = parseLayerName(layer);
  if (!parsed) throw new Error(`not a layer name: ${layer}`);
  const common = { label: `${ctx.image} qemu-img`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE };
  const copy = path.join(dir, `.${ctx.image}.overlaybase-${process.pid}`);
  try {
    await run("qemu-img", ["convert", "-O", "qcow2", "-f", imageFormat(parsed.name), path.join(dir, layer), copy], common);
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-b", path.basename(flat), "-F", "qcow2", overlay], common);
    await run("qemu-img", ["rebase", "-f", "qcow2", "-b", path.basename(copy), "-F", "qcow2", overlay], common);
    await run("qemu-img", ["rebase", "-u", "-f", "qcow2", "-b", layer, "-F", imageFormat(parsed.name), overlay], common);
    fs.renameSync(overlay, flat);
  } finally {
    fs.rmSync(overlay, { force: true });
    fs.rmSync(copy, { force: true });
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

/**
 * Make `file` (a qcow2 overlay whose chain checkChain has checked) a
 * standalone file with the same content: `qemu-img convert` without a
 * backing file, in order (no -W), so the same content gives the same
 * bytes; the result replaces `file`. The layers it read stay until a sweep.
 */
export async function flattenImage(file: string, ctx: { label: string; log: Logger; signal?: AbortSignal }): Promise<void> {
  const flat = path.join(path.dirname(file), `.${path.basename(file)}.flat-${process.pid}`);
  try {
    await run("qemu-img", ["convert", "-q", "-f", "qcow2", "-O", "qcow2", file, flat], {
      label: `${ctx.label} qemu-img`, log: ctx.log, signal: ctx.signal, timeoutMs: 60 * MINUTE,
    });
    fs.chmodSync(flat, 0o644);
    renameDurably(flat, file);
  } finally {
    fs.rmSync(flat, { force: true });
  }
}
