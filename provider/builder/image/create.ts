// Building an Image resource (its provider's `create`): at most a few builds
// at once per provider process, each interruptible, with the backend the
// check resolved, libguestfs's acceleration probed, progress on the image's
// row, and a boot check of bootable images. With a registry, the build key
// is looked up first (a hit is pulled instead of built), and a built image
// is published after; a failed push keeps the image and is retried by the
// next `up` (diff sees it unpublished: an update). Before either, the local
// image cache (filecache.ts) is asked for the build key: a revert, or a
// second stack with the same image, takes the file from there.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type CheckedImageInputs, imageConfigOf } from "../../model/check";
import { inRegistry, needsPublish, UNREACHABLE } from "../../model/diff";
import { type FileIdentity, identityOf, sameIdentity } from "../../model/identity";
import { imageFormat, isBootable } from "../../model/image";
import { TAG } from "../../model/oci";
import { guestfsEnvironment, kvmVerdict } from "../boot/accel";
import type { Backend } from "../backends/backend";
import { directBackend } from "../backends/direct";
import { guestfsBackend } from "../backends/guestfs";
import { DEFAULT_BOOT_TIMEOUT_MS } from "../boot/check";
import { cacheDir } from "../cache/dirs";
import { RegistryError, registrySession, type RegistrySession } from "../oci/crane";
import { onPath } from "../run/host";
import { buildImage, imagePaths } from "./safebuild";
import { confirmEngine, interruptible, limiter } from "../run/interrupt";
import { FileCache } from "../cache/filecache";
import { isLocalCopy, recordLocalCopy } from "../oci/localcopy";
import { fileLogger, type Logger, memoryLogger, stderrLogger, toStderr } from "../run/log";
import { InterruptedError } from "./pipeline";
import { BuildProgress, type Cadence, LINES, NO_PROGRESS, type ProgressSink } from "./progress";
import { publishImage, tagPublished } from "../oci/publish";
import { pullImages, resolveDigest } from "../oci/pull";

export interface ImageOutputs extends CheckedImageInputs {
  path: string;
  format: "raw" | "qcow2";
  /** Unset for an image in the registry that this machine keeps no copy of. */
  sizeBytes?: number;
  /** Bytes the file takes on disk. */
  allocatedBytes?: number;
  identity?: FileIdentity;
  logFile: string;
  accel: string;
  stepSeconds: Record<string, number>;
  /** When the build (or pull) that made the file finished (ISO 8601), and how long it took. */
  builtAt: string;
  buildSeconds: number;
  /** "built", "image cache" (the local cache had the build key), or "pulled REPOSITORY@DIGEST" when the registry had the build key ("registry REPOSITORY@DIGEST" with localCopies false: nothing downloaded). */
  source: string;
  /** REPOSITORY@DIGEST where the image is published, if it is. */
  published?: string;
  /** The human tag it was published with. */
  publishedTag?: string;
  /** Why the last publish failed (the next `up` retries it). */
  publishError?: string;
}

export const BACKENDS: Record<"guestfs" | "direct", Backend> = { guestfs: guestfsBackend, direct: directBackend };

const oneAtATime = limiter(Math.max(1, Number(process.env.VM_IMAGES_PARALLEL) || Math.floor(os.cpus().length / 2)));

/** Every tool line on the provider's stderr too: the image's `verbose` input, or VM_IMAGES_VERBOSE=1. */
export function isVerbose(inputs: { verbose?: boolean }, env = process.env): boolean {
  return inputs.verbose === true || /^(1|true|yes)$/i.test(env.VM_IMAGES_VERBOSE ?? "");
}

/** The boot check's time limit: VM_IMAGES_BOOT_TIMEOUT seconds, else 6 minutes. */
function bootTimeoutMs(): number {
  const s = Number(process.env.VM_IMAGES_BOOT_TIMEOUT);
  return s > 0 ? s * 1000 : DEFAULT_BOOT_TIMEOUT_MS;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

// Registry work (a pull instead of a build, publishing, a local copy) is short
// and says what it did: its lines go to the image's log and to the CLI.
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

/** Pull `published` (repository@digest) as `name` into `dir`, and record the file as its local copy. */
async function fetchLocalCopy(
  published: string, dir: string, name: string, insecure: boolean | undefined, session: RegistrySession, signal: AbortSignal, log: Logger,
) {
  const started = Date.now();
  const pulled = await pullImages({ ref: published, dir, expect: [name], log, label: `${name} registry`, signal, session, insecure });
  const file = pulled.files[0];
  recordLocalCopy(file.path, pulled.pinned);
  log.line(name, `local copy: pulled ${pulled.pinned} in ${Math.round((Date.now() - started) / 100) / 10} s`);
  return file;
}

/**
 * A derived image is built from its parent's file: with the parent in the
 * registry and no unchanged copy of it here (as on a runner that keeps no
 * local copies), the parent is pulled first.
 */
async function ensureParent(inputs: CheckedImageInputs, session: RegistrySession, signal: AbortSignal): Promise<void> {
  // A parent from vm-images:pull has no build key ("pulled <digest>"): it is not ours to fetch.
  if (!inputs.registry || !inputs.parent || !inputs.parentPath || !TAG.test(inputs.parentBuildKey ?? "")) return;
  const label = `${inputs.name} parent`;
  const current = await lookUpPublished(inputs.registry, inputs.parentBuildKey!, inputs.insecureRegistry, session, label, signal);
  if (current === undefined || current === UNREACHABLE || isLocalCopy(inputs.parentPath, current)) return;
  const log = stderrLogger();
  await fetchLocalCopy(current, path.dirname(inputs.parentPath), inputs.parent, inputs.insecureRegistry, session, signal, log);
}

/** The registry's copy of this build key, pulled into place; undefined on a miss or an unreachable registry (with a warning). */
async function pullFromCache(inputs: CheckedImageInputs, session: RegistrySession, signal: AbortSignal): Promise<ImageOutputs | undefined> {
  const name = inputs.name;
  const ref = `${inputs.registry}:${inputs.buildKey}`;
  const p = imagePaths(inputs.dir, name);
  const probe = stderrLogger(p.log);
  const common = { log: probe, label: `${name} registry`, signal, session, insecure: inputs.insecureRegistry };
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
  if (inputs.localCopies === false) {
    const published = `${inputs.registry}@${digest}`;
    probe.line(name, `in the registry as ${published}: no local copy kept (vm-images:localCopies is false)`);
    const outs: ImageOutputs = {
      ...inputs, path: p.final, format: imageFormat(name), logFile: p.log, accel: "none", stepSeconds: {},
      builtAt: new Date().toISOString(), buildSeconds: 0,
      source: `registry ${published}`, published, publishedTag: undefined, publishError: undefined,
    };
    return await publish(outs, session, signal, probe);
  }
  const started = Date.now();
  const log = fileLogger(p.log, toStderr);
  try {
    const pulled = await pullImages({ ref, dir: inputs.dir, expect: [name], ...common, log });
    const file = pulled.files[0];
    recordLocalCopy(file.path, pulled.pinned);
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    log.line(name, `source: pulled ${pulled.pinned} (build key ${inputs.buildKey}) in ${seconds} s`);
    const outs: ImageOutputs = {
      ...inputs, path: file.path, format: imageFormat(name), sizeBytes: file.identity.size, identity: file.identity,
      allocatedBytes: fs.statSync(file.path).blocks * 512, logFile: p.log, accel: "none", stepSeconds: { pull: seconds },
      builtAt: new Date().toISOString(), buildSeconds: seconds, source: `pulled ${pulled.pinned}`,
      published: pulled.pinned, publishedTag: undefined, publishError: undefined,
    };
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
async function publish(outs: ImageOutputs, session: RegistrySession, signal?: AbortSignal, openLog?: Logger): Promise<ImageOutputs> {
  if (!outs.registry || !needsPublish(outs, outs)) return outs;
  const log = openLog ?? fileLogger(outs.logFile, toStderr, { append: true });
  try {
    if (outs.published?.startsWith(`${outs.registry}@`) && outs.tag) {
      await tagPublished(outs.published!, outs.name, outs.tag, { log, label: `${outs.name} publish`, signal, session, insecure: outs.insecureRegistry });
      return { ...outs, publishedTag: outs.tag, publishError: undefined };
    }
    const published = await publishImage({
      file: outs.path, repository: outs.registry, tag: outs.tag, insecure: outs.insecureRegistry,
      facts: {
        name: outs.name, buildKey: outs.buildKey, parentBuildKey: outs.parentBuildKey, suite: outs.suite,
        backend: outs.backend, created: new Date().toISOString(),
      },
      log, label: `${outs.name} publish`, signal, session,
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

/** The image cache's name for an image: its build key and format. */
function imageCacheId(inputs: CheckedImageInputs): string {
  return `image-${inputs.buildKey}.${imageFormat(inputs.name)}`;
}

/**
 * The build key's image from the local image cache, linked into place; undefined
 * on a miss (or when the cached image did not pass a boot check this build wants).
 */
async function fromImageCache(
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
    if (!(await files.take(id, p.temp, "link", { log, label: `${name} cache`, signal }))) return undefined;
    await confirmEngine();
    if (signal.aborted) throw new InterruptedError(name);
    fs.renameSync(p.temp, p.final);
    fs.rmSync(p.failed, { force: true });
    const identity = identityOf(p.final)!;
    const seconds = round1((Date.now() - started) / 1000);
    log.line(name, `source: image cache (build key ${inputs.buildKey}) in ${seconds} s`);
    return {
      ...inputs, path: p.final, format: imageFormat(name), sizeBytes: identity.size, identity,
      allocatedBytes: fs.statSync(p.final).blocks * 512, logFile: p.log, accel: "none", stepSeconds: { "image cache": seconds },
      builtAt: new Date().toISOString(), buildSeconds: seconds, source: "image cache",
    };
  } finally {
    fs.rmSync(p.temp, { force: true });
    await log.close();
  }
}

/**
 * With a registry, an image from the local cache is the registry's artifact
 * of its build key when there is one (same key, same image: nothing is
 * pushed, so the tag does not move); otherwise it is published as a build is.
 */
async function publishCached(outs: ImageOutputs, session: RegistrySession, signal: AbortSignal): Promise<ImageOutputs> {
  const current = await lookUpPublished(outs.registry!, outs.buildKey, outs.insecureRegistry, session, `${outs.name} registry`, signal);
  if (typeof current !== "string" || current === UNREACHABLE) return publish(outs, session, signal);
  recordLocalCopy(outs.path, current);
  return publish({ ...outs, published: current }, session, signal);
}

/** Keep a built or pulled image in the local image cache; a failure to is a warning, never a failed build. */
async function toImageCache(outs: ImageOutputs, files: FileCache | undefined, bootChecked: boolean, signal: AbortSignal): Promise<void> {
  if (!files || !outs.identity || !sameIdentity(identityOf(outs.path), outs.identity)) return;
  const log = stderrLogger(outs.logFile);
  try {
    await files.store(imageCacheId(outs), outs.path, "link", { bootChecked }, { log, label: `${outs.name} cache`, signal });
  } catch (err) {
    if (signal.aborted) throw err;
    log.line(outs.name, `warning: the image is built but not cached: ${(err as Error).message}`);
  }
}

export function createImage(inputs: CheckedImageInputs, sink: ProgressSink = NO_PROGRESS, cadence: Cadence = LINES): Promise<ImageOutputs> {
  const image = imageConfigOf(inputs);
  const backend = BACKENDS[inputs.backend];
  const progress = new BuildProgress(sink, cadence);
  return oneAtATime(() =>
    interruptible(async (signal) => {
      const session = inputs.registry ? registrySession() : undefined;
      try {
        const cache = cacheDir();
        const files = FileCache.of(cache);
        // On by default where qemu is installed; `true` insists (a missing qemu then fails the build).
        const wantBoot = isBootable(image) && inputs.verifyBoot !== false && (inputs.verifyBoot === true || onPath("qemu-system-x86_64"));
        // Local first, then the registry, then a build.
        const cached = files && await fromImageCache(inputs, files, wantBoot, signal);
        if (cached) return session ? await publishCached(cached, session, signal) : cached;
        if (session) {
          const hit = await pullFromCache(inputs, session, signal);
          if (hit) {
            await toImageCache(hit, files, false, signal);
            return hit;
          }
          await ensureParent(inputs, session, signal);
        }
        const accel = await guestfsEnvironment(cache, memoryLogger(), signal);
        if (isBootable(image) && inputs.verifyBoot === undefined && !wantBoot) {
          progress.warn("no boot check: qemu-system-x86_64 is not installed (Debian package qemu-system-x86)");
        }
        const bootCheck = wantBoot ? { accel: await kvmVerdict(cache, memoryLogger(), signal), timeoutMs: bootTimeoutMs() } : undefined;
        const built = await buildImage({
          dir: inputs.dir, image, parentPath: inputs.parentPath, suite: inputs.suite, mirror: inputs.mirror,
          baseDir: inputs.baseDir, mergeSteps: inputs.mergeSteps, backend, guestfsEnv: accel.env,
          cacheDir: cache, signal, progress, bootCheck, echo: isVerbose(inputs) ? toStderr : undefined,
          beforeCommit: confirmEngine,
        });
        const outs: ImageOutputs = {
          ...inputs,
          path: built.path,
          format: imageFormat(image.name),
          sizeBytes: built.sizeBytes,
          allocatedBytes: built.allocatedBytes,
          identity: built.identity,
          logFile: built.logFile,
          accel: accel.accel,
          stepSeconds: Object.fromEntries(built.timings.map((t) => [t.step, round1(t.seconds)])),
          builtAt: new Date().toISOString(),
          buildSeconds: round1(built.seconds),
          source: "built",
        };
        await toImageCache(outs, files, bootCheck !== undefined, signal);
        return session ? await publish(outs, session, signal) : outs;
      } finally {
        session?.close();
        await progress.close();
      }
    }),
  );
}

/**
 * An image in the registry: the state follows the artifact its build key's
 * tag points to, and this machine's copy is pulled when it keeps one and
 * the file is missing or changed.
 */
async function updateFromRegistry(olds: ImageOutputs, news: CheckedImageInputs, session: RegistrySession, signal: AbortSignal): Promise<ImageOutputs> {
  const p = imagePaths(news.dir, news.name);
  const current = await lookUpPublished(news.registry!, news.buildKey, news.insecureRegistry, session, `${news.name} registry`, signal);
  const published = typeof current === "string" && current !== UNREACHABLE ? current : olds.published!;
  let outs: ImageOutputs = { ...olds, ...news, path: p.final, logFile: p.log, published };
  if (news.localCopies !== false && !isLocalCopy(p.final, published)) {
    if (current === UNREACHABLE) throw new Error(`${news.name}: its local copy is missing or changed and the registry ${news.registry} is not available to fetch it again`);
    const log = fileLogger(p.log, toStderr, { append: true });
    try {
      const file = await fetchLocalCopy(published, news.dir, news.name, news.insecureRegistry, session, signal, log);
      outs = { ...outs, identity: file.identity, sizeBytes: file.identity.size, source: `pulled ${published}` };
    } finally {
      await log.close();
    }
  }
  return publish(outs, session, signal);
}

/** An update changes how, not what, we build (mergeSteps), or publishes an image that is not published yet. */
export async function updateImage(olds: ImageOutputs, news: CheckedImageInputs): Promise<ImageOutputs> {
  if (inRegistry(olds, news)) {
    const session = registrySession();
    try {
      return await oneAtATime(() => interruptible((signal) => updateFromRegistry(olds, news, session, signal)));
    } finally {
      session.close();
    }
  }
  const outs: ImageOutputs = { ...olds, ...news };
  if (!needsPublish(outs, outs) || !sameIdentity(identityOf(olds.path), olds.identity)) return outs;
  const session = registrySession();
  try {
    return await oneAtATime(() => interruptible((signal) => publish(outs, session, signal)));
  } finally {
    session.close();
  }
}
