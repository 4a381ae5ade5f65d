// An Image and the registry: the build key looked up before a build (a hit
// is pulled instead of built), a built image published after (a failed push
// keeps the image; the next `up` retries it; an overlay names its parent's
// artifact), a parent fetched when a build needs its file, and an image
// whose state follows its published artifact.
// Registry work is short and says what it did: its lines go to the image's
// log and to the CLI.
import * as path from "node:path";
import type { CheckedImageInputs } from "../../model/check";
import { needsPublish, UNREACHABLE } from "../../model/diff";
import { parseRef, publishedContentDigest, TAG } from "../../model/oci";
import { archOf, platformText } from "../../model/arch";
import { contentDigest } from "./digest";
import { packagesRecordOf, sbomOf } from "./packages";
import { archiveMoved } from "../archive/stale";
import { publishedSbom } from "../oci/sbom";
import type { FetchRequest } from "../oci/fetch";
import { readSbom } from "../../model/sbom";
import { type ImageOutputs, imageOutputs, round1 } from "./outputs";
import { imagePaths } from "./safebuild";
import { fileLogger, type Logger, memoryLogger, stderrLogger, toStderr } from "../run/log";
import { crane, RegistryError, type RegistrySession } from "../oci/crane";
import { overlayFacts } from "../oci/chain";
import { isLocalCopy, recordLocalCopy } from "../oci/localcopy";
import { publishImage, tagPublished } from "../oci/publish";
import { pullImages, resolveDigest } from "../oci/pull";

/**
 * `repository@digest` that the build key's tag points to now (a manifest
 * request: nothing is downloaded); undefined when the tag is not there,
 * UNREACHABLE (with the reason on stderr) when the registry does not answer.
 */
export async function lookUpPublished(
  registry: string, buildKey: string, insecure: boolean | undefined, session: RegistrySession, label: string, signal?: AbortSignal,
): Promise<string | undefined | typeof UNREACHABLE> {
  try {
    const digest = await resolveDigest({ ref: `${registry}:${buildKey}`, log: memoryLogger(), label, signal, session, insecure }, { manifestOnly: true });
    return `${registry}@${digest}`;
  } catch (err) {
    if (err instanceof RegistryError && err.notFound) return undefined;
    if (signal?.aborted) throw err;
    process.stderr.write(`${label} | warning: registry not available: ${session.redact((err as Error).message)}\n`);
    return UNREACHABLE;
  }
}

/**
 * The content digest an artifact (`repository@digest`) was published with,
 * from its manifest's annotation (nothing is downloaded): for an image this
 * machine keeps no copy of. Undefined when it has none or cannot be read.
 */
async function annotatedDigest(
  published: string, insecure: boolean | undefined, session: RegistrySession, log: Logger, label: string, signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    const manifest = await crane(`reading ${published}`, parseRef(published).host, ["manifest", published], { log, label, signal, session, insecure, timeoutMs: 2 * 60_000 });
    return publishedContentDigest(manifest);
  } catch (err) {
    if (signal?.aborted) throw err;
    log.line(label, `warning: the content digest of ${published} is not known: ${session.redact((err as Error).message)}`);
    return undefined;
  }
}

/**
 * Pull `published` (repository@digest) as `name` into `dir` (an overlay with
 * its parent layers, or flattened), and record the file as its local copy.
 */
async function fetchLocalCopy(
  published: string, dir: string, name: string, arch: string, insecure: boolean | undefined, session: RegistrySession, signal: AbortSignal, log: Logger, flatten?: boolean,
) {
  const started = Date.now();
  const platform = platformText(arch);
  const pulled = await pullImages({ ref: published, dir, expect: [name], platform, log, label: `${name} registry`, signal, session, insecure, flatten });
  const file = pulled.files[0];
  recordLocalCopy(file.path, pulled.pinned);
  log.line(name, `local copy: pulled ${pulled.pinned} in ${round1((Date.now() - started) / 1000)} s`);
  return file;
}

/**
 * A derived image is built from its parent's file: with the parent in the
 * registry and no unchanged copy of it here (as on a runner that keeps no
 * local copies), the parent is pulled first.
 */
export async function ensureParent(inputs: CheckedImageInputs, session: RegistrySession, signal: AbortSignal): Promise<void> {
  // A parent from vm-images:pull has no build key ("pulled <digest>"): it is not ours to fetch.
  if (!inputs.registry || !inputs.parent || !inputs.parentPath || !TAG.test(inputs.parentBuildKey ?? "")) return;
  const label = `${inputs.name} parent`;
  const current = await lookUpPublished(inputs.registry, inputs.parentBuildKey!, inputs.insecureRegistry, session, label, signal);
  if (current === undefined || current === UNREACHABLE || isLocalCopy(inputs.parentPath, current)) return;
  const log = stderrLogger();
  // A parent of the forest is of its child's architecture.
  await fetchLocalCopy(current, path.dirname(inputs.parentPath), inputs.parent, archOf(inputs), inputs.insecureRegistry, session, signal, log);
}

/** Why a published image is behind the archive (followArchive): newer versions of its packages, no SBOM, or an archive that cannot be read. */
async function publishedBehindArchive(inputs: CheckedImageInputs, pinned: string, req: Omit<FetchRequest, "ref">): Promise<string | undefined> {
  try {
    const text = await publishedSbom(pinned, inputs.name, { ...req, ref: pinned });
    if (text === undefined) return "it was published without an SBOM to follow the archive by";
    return await archiveMoved(readSbom(text), { mirror: inputs.mirror, allowHosts: inputs.allowHosts ?? [] }, req.signal);
  } catch (err) {
    if (req.signal?.aborted) throw err;
    return `its packages cannot be checked against the archive: ${(err as Error).message}`;
  }
}

/** The registry's copy of this build key, pulled into place; undefined on a miss or an unreachable registry (with a warning). */
export async function pullFromCache(inputs: CheckedImageInputs, session: RegistrySession, signal: AbortSignal): Promise<ImageOutputs | undefined> {
  const name = inputs.name;
  const ref = `${inputs.registry}:${inputs.buildKey}`;
  const p = imagePaths(inputs.dir, name);
  const probe = stderrLogger(p.log);
  // The build key's tag is a plain manifest of the key's architecture.
  const common = { log: probe, label: `${name} registry`, signal, session, insecure: inputs.insecureRegistry, platform: platformText(archOf(inputs)) };
  let digest: string;
  try {
    digest = await resolveDigest({ ref, ...common });
  } catch (err) {
    if (signal.aborted) throw err;
    const notFound = err instanceof RegistryError && err.notFound;
    probe.line(name, notFound
      ? `build key not in ${inputs.registry}: building`
      : `warning: registry cache not available, building: ${(err as Error).message}`);
    return undefined;
  }
  if (inputs.followArchive === true) {
    const moved = await publishedBehindArchive(inputs, `${inputs.registry}@${digest}`, common);
    if (moved) {
      probe.line(name, `in the registry as ${inputs.registry}@${digest}, not taken: ${moved}; building`);
      return undefined;
    }
  }
  if (inputs.localCopies === false) {
    const published = `${inputs.registry}@${digest}`;
    probe.line(name, `in the registry as ${published}: no local copy kept (vm-images:localCopies is false)`);
    const annotated = await annotatedDigest(published, inputs.insecureRegistry, session, probe, `${name} registry`, signal);
    const outs = imageOutputs(inputs, { path: p.final, digest: annotated, logFile: p.log, stepSeconds: {}, seconds: 0, source: `registry ${published}`, published });
    return await publish(outs, session, signal, probe);
  }
  const started = Date.now();
  const log = fileLogger(p.log, toStderr);
  try {
    const pulled = await pullImages({ ref, dir: inputs.dir, expect: [name], ...common, log, flatten: inputs.flatten });
    const file = pulled.files[0];
    recordLocalCopy(file.path, pulled.pinned);
    // Hashed here, not taken from the annotation: the digest is of the bytes this machine has (as pulled, for a
    // flattened overlay). The file is in place already: an interrupt now would leave it unrecorded, so the few
    // seconds are waited for.
    const hashed = file.publishedDigest ?? await contentDigest(file.path);
    const seconds = round1((Date.now() - started) / 1000);
    log.line(name, `source: pulled ${pulled.pinned} (build key ${inputs.buildKey}, ${hashed}) in ${seconds} s`);
    const outs = imageOutputs(inputs, {
      path: file.path, identity: file.identity, digest: hashed, logFile: p.log, stepSeconds: { pull: seconds }, seconds,
      source: `pulled ${pulled.pinned}`, published: pulled.pinned, packages: packagesRecordOf(file.path, hashed),
    });
    return await publish(outs, session, signal, log);
  } catch (err) {
    if (signal.aborted) throw err;
    log.line(name, `warning: pulling ${ref} failed, building: ${(err as Error).message}`);
    return undefined;
  } finally {
    await log.close();
  }
}

/**
 * Publish an image that needs it (or only add its human tag, if it is
 * published already); a failure is reported and recorded, never thrown: the
 * image is kept.
 */
export async function publish(outs: ImageOutputs, session: RegistrySession, signal?: AbortSignal, openLog?: Logger): Promise<ImageOutputs> {
  if (!outs.registry || !needsPublish(outs, outs)) return outs;
  const log = openLog ?? fileLogger(outs.logFile, toStderr, { append: true });
  try {
    if (outs.published?.startsWith(`${outs.registry}@`) && outs.tag) {
      await tagPublished(outs.published!, outs.name, outs.tag, outs.arch, { log, label: `${outs.name} publish`, signal, session, insecure: outs.insecureRegistry });
      return { ...outs, publishedTag: outs.tag, publishError: undefined };
    }
    const common = { log, label: `${outs.name} publish`, signal, session, insecure: outs.insecureRegistry };
    const overlay = await overlayFacts(outs.path, outs.name, outs.registry, outs.parentBuildKey, common);
    const published = await publishImage({
      file: outs.path, repository: outs.registry, tag: outs.tag, sbom: outs.sbom && sbomOf(outs.path, outs.digest) ? outs.sbom : undefined,
      facts: {
        name: outs.name, buildKey: outs.buildKey, digest: outs.digest, parentBuildKey: outs.parentBuildKey, parentDigest: outs.parentDigest, suite: outs.suite,
        backend: outs.backend, arch: outs.arch, created: new Date().toISOString(), installedPackages: outs.installedPackages, ...overlay,
      },
      ...common,
    });
    recordLocalCopy(outs.path, published);
    return { ...outs, published, publishedTag: outs.tag, publishError: undefined };
  } catch (err) {
    if (signal?.aborted) throw err;
    const msg = session.redact((err as Error).message);
    log.line(outs.name, `warning: publishing failed, the image is kept and the next up retries: ${msg}`);
    return { ...outs, published: outs.published?.startsWith(`${outs.registry}@`) ? outs.published : undefined, publishError: msg };
  } finally {
    if (!openLog) await log.close();
  }
}

/**
 * With a registry, an image from the local cache is the registry's artifact
 * of its build key when there is one (same key, same image: nothing is
 * pushed, so the tag does not move); otherwise it is published as a build is.
 */
export async function publishCached(outs: ImageOutputs, session: RegistrySession, signal: AbortSignal): Promise<ImageOutputs> {
  const current = await lookUpPublished(outs.registry!, outs.buildKey, outs.insecureRegistry, session, `${outs.name} registry`, signal);
  if (typeof current !== "string" || current === UNREACHABLE) return publish(outs, session, signal);
  recordLocalCopy(outs.path, current);
  return publish({ ...outs, published: current }, session, signal);
}

/**
 * An image in the registry: the state follows the artifact its build key's
 * tag points to, and this machine's copy is pulled when it keeps one and
 * the file is missing or changed.
 */
export async function updateFromRegistry(olds: ImageOutputs, news: CheckedImageInputs, session: RegistrySession, signal: AbortSignal): Promise<ImageOutputs> {
  const p = imagePaths(news.dir, news.name);
  const current = await lookUpPublished(news.registry!, news.buildKey, news.insecureRegistry, session, `${news.name} registry`, signal);
  const published = typeof current === "string" && current !== UNREACHABLE ? current : olds.published!;
  // A moved tag is another artifact: its digest is not the one recorded.
  const digest = published === olds.published ? olds.digest : undefined;
  let outs: ImageOutputs = { ...olds, ...news, arch: archOf(news), path: p.final, logFile: p.log, published, digest };
  if (news.localCopies !== false && !isLocalCopy(p.final, published)) {
    if (current === UNREACHABLE) throw new Error(`${news.name}: its local copy is missing or changed and the registry ${news.registry} is not available to fetch it again`);
    const log = fileLogger(p.log, toStderr, { append: true });
    try {
      const file = await fetchLocalCopy(published, news.dir, news.name, archOf(news), news.insecureRegistry, session, signal, log, news.flatten);
      const digest = file.publishedDigest ?? await contentDigest(file.path);
      outs = { ...outs, identity: file.identity, sizeBytes: file.identity.size, source: `pulled ${published}`, digest };
    } finally {
      await log.close();
    }
  }
  if (outs.digest === undefined) {
    // A flattened copy's bytes are not the published image's: its digest is the annotation's.
    outs.digest = news.localCopies !== false && !news.flatten && isLocalCopy(p.final, published)
      ? await contentDigest(p.final)
      : await annotatedDigest(published, news.insecureRegistry, session, stderrLogger(p.log), `${news.name} registry`, signal);
  }
  return publish(outs, session, signal);
}
