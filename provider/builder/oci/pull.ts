// Pulling published images without a Docker daemon (lvh's `images pull`):
// the reference resolved to a manifest digest and its images extracted
// (fetch.ts) into a fresh staging directory beside the images; an overlay's
// parent layers installed beside it first (chain.ts); then the images are
// renamed into place, only after crane and every zstd succeeded, so an
// existing image is replaced whole or not at all. With `flatten`, an
// overlay is made a standalone file before it is renamed into place, and the
// layers nothing reads any more are swept.
import * as fs from "node:fs";
import * as path from "node:path";
import { type FileIdentity, identityOf } from "../../model/identity";
import { parseRef } from "../../model/oci";
import { sbomFileName } from "../../model/sbom";
import { renameDurably } from "../run/files";
import { contentDigest } from "../image/digest";
import { backingFileOf } from "../image/layercheck";
import { flattenImage, sweepLayers } from "../image/layers";
import { annotationsOf, type ChainTarget, installChain } from "./chain";
import { extractImages, type FetchRequest, resolveDigest } from "./fetch";

export { hostPlatform, MAX_IMAGE_BYTES, resolveDigest } from "./fetch";

export interface PullRequest extends FetchRequest {
  /** The images directory: files land here (lvh's `--dir D` means D/images). */
  dir: string;
  /** Overlays made standalone files (no backing file), as lvh expects them. @default false */
  flatten?: boolean;
}

export interface PulledFile {
  name: string;
  path: string;
  identity: FileIdentity;
  /** A flattened overlay's: the content digest of the image as published (the file's own differs). */
  publishedDigest?: string;
}

export interface PullResult {
  /** The manifest digest the files came from. */
  digest: string;
  /** repository@digest. */
  pinned: string;
  files: PulledFile[];
}

/** Pull the images of `ref` into `dir`. Nothing but the layers overlays read is left behind on failure, and no existing image is touched. */
export async function pullImages(req: PullRequest): Promise<PullResult> {
  const { repository } = parseRef(req.ref);
  const digest = await resolveDigest(req);
  // Pinned: a tag that moves meanwhile cannot mix two images.
  const pinned = `${repository}@${digest}`;
  fs.mkdirSync(req.dir, { recursive: true });
  const staging = fs.mkdtempSync(path.join(req.dir, ".pull-"));
  const target: ChainTarget = { dir: req.dir, repository, unpins: [] };
  const hidden: string[] = [];
  try {
    const names = await extractImages(pinned, staging, req.dir, req);
    const overlays = names.filter((n) => backingFileOf(path.join(staging, n)) !== undefined);
    const annotations = overlays.length ? await annotationsOf(pinned, req) : {};
    for (const name of overlays) await installChain(path.join(staging, name), name, annotations, target, req);
    const published = new Map<string, string>();
    if (req.flatten) {
      for (const name of overlays) {
        // Beside its layers, where its backing name resolves; back to staging once it is standalone.
        const beside = path.join(req.dir, `.${name}.pulled-${process.pid}`);
        hidden.push(beside);
        fs.renameSync(path.join(staging, name), beside);
        published.set(name, await contentDigest(beside, req.signal, name));
        await flattenImage(beside, req);
        fs.renameSync(beside, path.join(staging, name));
        req.log.line(req.label, `${name}: flattened (a standalone file, no backing file)`);
      }
    }
    const files: PulledFile[] = [];
    const staged = fs.readdirSync(staging);
    // Each on the disk before it is named, and named before the state records it.
    for (const f of staged) renameDurably(path.join(staging, f), path.join(req.dir, f));
    for (const name of names) {
      const p = path.join(req.dir, name);
      // An SBOM beside it that came with another file is no longer its.
      if (!staged.includes(sbomFileName(name))) fs.rmSync(sbomFileName(p), { force: true });
      files.push({ name, path: p, identity: identityOf(p)!, ...(published.has(name) ? { publishedDigest: published.get(name) } : {}) });
      req.log.line(req.label, `pulled ${p} from ${pinned}`);
    }
    for (const unpin of target.unpins.splice(0)) unpin();
    if (published.size) sweepLayers(req.dir, req.log, req.label);
    return { digest, pinned, files };
  } finally {
    for (const unpin of target.unpins) unpin();
    for (const f of hidden) fs.rmSync(f, { force: true });
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
