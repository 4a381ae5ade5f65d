// A layer's digest checked against its name (model/layers.ts says what a
// layer is), and its backing chain as qemu follows it. A layer is hashed
// once; its identity then is recorded beside it (`<layer>.verified`), so a
// later use trusts an unchanged file without reading it again, and hashes a
// changed one. Used by builds (layers.ts) and by pulls that install a
// parent's layer (oci/chain.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import { identityOf, sameIdentity } from "../../model/identity";
import { parseLayerName, parseQcow2Header, type Qcow2Header } from "../../model/layers";
import { writeFileAtomicSync } from "../run/files";
import { contentDigest } from "./digest";

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

/**
 * Whether every backing file along `file`'s chain is a layer beside it that
 * exists (its digest is not checked: a cheap test of whether a copy is
 * whole). True for a file that names no backing file.
 */
export function chainPresent(file: string): boolean {
  const seen = new Set<string>();
  for (let at = file; ;) {
    let backing: string | undefined;
    try {
      backing = backingFileOf(at);
    } catch {
      return false;
    }
    if (backing === undefined) return true;
    if (!parseLayerName(backing) || seen.has(backing) || seen.size > 64) return false;
    seen.add(backing);
    at = path.join(path.dirname(file), backing);
  }
}

/** Where a layer's verified identity is recorded. */
export const verifiedPath = (layer: string) => `${layer}.verified`;

/** Record that `layer`, as it is now, holds the digest its name says (the caller has hashed it). */
export function recordVerified(layer: string): void {
  writeFileAtomicSync(verifiedPath(layer), JSON.stringify(identityOf(layer)));
}

/**
 * Pin a layer for this process (`<layer>.pin-<pid>`): a sweep keeps it,
 * even while no image reads it yet. Returns the unpin.
 */
export function pinLayer(layer: string): () => void {
  const pin = `${layer}.pin-${process.pid}`;
  fs.writeFileSync(pin, "");
  return () => fs.rmSync(pin, { force: true });
}

/**
 * What a layer file holds against its name: "missing", "ok" (by its
 * recorded identity when unchanged, else hashed, and then recorded), or the
 * content digest it holds instead.
 */
export async function layerState(layer: string, signal?: AbortSignal): Promise<"missing" | "ok" | { holds: string }> {
  const parsed = parseLayerName(path.basename(layer));
  if (!parsed) throw new Error(`not a layer name: ${layer}`);
  if (!fs.existsSync(layer)) return "missing";
  try {
    const recorded = JSON.parse(fs.readFileSync(verifiedPath(layer), "utf8"));
    if (sameIdentity(identityOf(layer), recorded)) return "ok";
  } catch {
    // no record: hashed below
  }
  const digest = await contentDigest(layer, signal);
  if (digest !== parsed.digest) return { holds: digest };
  recordVerified(layer);
  return "ok";
}

/** A layer's digest checked against its name; throws, naming it, when it is missing or altered. */
export async function verifyLayer(layer: string, what: string, signal?: AbortSignal): Promise<void> {
  const parsed = parseLayerName(path.basename(layer))!;
  const state = await layerState(layer, signal);
  if (state === "missing") {
    throw new Error(`${what}: its parent layer ${layer} is missing (the parent ${parsed.name} at ${parsed.digest}); ` +
      "pull the image again (its parent comes with it) or rebuild it");
  }
  if (state !== "ok") {
    throw new Error(`${what}: its parent layer ${layer} is altered: its content is ${state.holds}, its name says ${parsed.digest} ` +
      "(was the parent's file written to in place?); pull or rebuild the image");
  }
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
