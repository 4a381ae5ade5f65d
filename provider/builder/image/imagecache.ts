// The per-user image cache (filecache.ts) as an Image's create uses it:
// finished images by build key and format, so a revert, or a second stack
// with the same image, takes the file from there instead of building it.
import * as fs from "node:fs";
import type { CheckedImageInputs } from "../../model/check";
import { identityOf, sameIdentity } from "../../model/identity";
import { imageFormat } from "../../model/image";
import { type ImageOutputs, imageOutputs, round1 } from "./outputs";
import { InterruptedError } from "../run/steps";
import { contentDigest } from "./digest";
import { ensureLayer } from "./layers";
import { type Layering, layeredAsOverlay } from "../../model/layers";
import { imagePaths } from "./safebuild";
import { reportContents, writeSbom } from "./packages";
import { archiveMoved } from "../archive/stale";
import type { IndexFetchPolicy } from "../../model/archive";
import { confirmEngine } from "../run/interrupt";
import { fileLogger, stderrLogger, toStderr } from "../run/log";
import type { FileCache } from "../cache/filecache";

/** The image cache's name for an image: its build key and format. */
function imageCacheId(inputs: CheckedImageInputs): string {
  return `image-${inputs.buildKey}.${imageFormat(inputs.name)}`;
}

/**
 * The build key's image from the local image cache, linked into place; undefined
 * on a miss (or when the cached image did not pass a boot check this build wants).
 */
export async function fromImageCache(
  inputs: CheckedImageInputs, files: FileCache, needsBootCheck: boolean, signal: AbortSignal,
): Promise<ImageOutputs | undefined> {
  const id = imageCacheId(inputs);
  const facts = files.lookup(id);
  if (!facts || (needsBootCheck && facts.bootChecked !== true)) return undefined;
  const name = inputs.name;
  const p = imagePaths(inputs.dir, name);
  fs.mkdirSync(inputs.dir, { recursive: true });
  const started = Date.now();
  const log = fileLogger(p.log, toStderr);
  try {
    const report = typeof facts.packagesReport === "string" ? facts.packagesReport : undefined;
    if (inputs.followArchive === true) {
      const moved = await archiveMovedSince(report, { mirror: inputs.mirror, allowHosts: inputs.allowHosts ?? [] }, signal);
      if (moved) {
        log.line(name, `image cache: not taken (build key ${inputs.buildKey}): ${moved}`);
        return undefined;
      }
    }
    if (!(await files.take(id, p.temp, "link", { log, label: `${name} cache`, signal }))) return undefined;
    // The digest it was stored with (an entry is no entry once its file changed); hashed for an entry stored without one.
    const digest = typeof facts.digest === "string" ? facts.digest : await contentDigest(p.temp, signal, name);
    // An overlay reads its parent's layer: made from the parent (whose digest its key holds) when missing.
    if (layeredAsOverlay(inputs, inputs.layering as Layering | undefined) && inputs.parentPath && inputs.parentDigest) {
      try {
        const layer = await ensureLayer({
          dir: inputs.dir, parentName: inputs.parent!, parentPath: inputs.parentPath, digest: inputs.parentDigest, image: name, log, signal,
        });
        layer.unpin();
      } catch (err) {
        if (signal.aborted) throw err;
        log.line(name, `image cache: not taken, its parent's layer cannot be made: ${(err as Error).message}`);
        return undefined;
      }
    }
    await confirmEngine();
    if (signal.aborted) throw new InterruptedError(name);
    fs.renameSync(p.temp, p.final);
    fs.rmSync(p.failed, { force: true });
    const seconds = round1((Date.now() - started) / 1000);
    log.line(name, `source: image cache (build key ${inputs.buildKey}, ${digest}) in ${seconds} s`);
    const packages = writeSbom({ file: p.final, digest, parent: inputs.parent, parentDigest: inputs.parentDigest }, report);
    return imageOutputs(inputs, {
      path: p.final, identity: identityOf(p.final)!, digest, packages, logFile: p.log, stepSeconds: { "image cache": seconds }, seconds, source: "image cache",
    });
  } finally {
    fs.rmSync(p.temp, { force: true });
    await log.close();
  }
}

/** Why a cached image is behind the archive (followArchive): newer versions of its packages, none on record, or an archive that cannot be read. */
async function archiveMovedSince(report: string | undefined, policy: IndexFetchPolicy, signal: AbortSignal): Promise<string | undefined> {
  const contents = reportContents(report);
  if (!contents) return "it has no packages on record to follow the archive by";
  try {
    return await archiveMoved(contents, policy, signal);
  } catch (err) {
    if (signal.aborted) throw err;
    return `the archive cannot be read: ${(err as Error).message}`;
  }
}

/** Keep a built or pulled image in the local image cache; a failure to is a warning, never a failed build. */
export async function toImageCache(outs: ImageOutputs, files: FileCache | undefined, bootChecked: boolean, signal: AbortSignal, packagesReport?: string): Promise<void> {
  if (!files || !outs.identity || !sameIdentity(identityOf(outs.path), outs.identity)) return;
  const log = stderrLogger(outs.logFile);
  try {
    const facts: Record<string, string | boolean> = outs.digest ? { bootChecked, digest: outs.digest } : { bootChecked };
    // What its SBOM is made from, so that an image taken from the cache has its SBOM too.
    if (packagesReport !== undefined) facts.packagesReport = packagesReport;
    await files.store(imageCacheId(outs), outs.path, "link", facts, { log, label: `${outs.name} cache`, signal });
  } catch (err) {
    if (signal.aborted) throw err;
    log.line(outs.name, `warning: the image is built but not cached: ${(err as Error).message}`);
  }
}
