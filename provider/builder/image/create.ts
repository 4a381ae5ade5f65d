// Building an Image resource (its provider's `create`): at most a few builds
// at once per provider process, each interruptible. The local image cache
// is asked first (a revert, or a second stack with the same image, takes
// the file from there), then the registry when there is one (a hit is
// pulled instead of built, registry.ts), then the image is built with
// the backend the check resolved, libguestfs's acceleration probed,
// progress on the image's row and a boot check of bootable images, and
// published after.
import * as os from "node:os";
import { type CheckedImageInputs, imageConfigOf } from "../../model/check";
import { inRegistry, needsDigest, needsPublish } from "../../model/diff";
import { identityOf, sameIdentity } from "../../model/identity";
import { isBootable } from "../../model/image";
import { archOf, bootFirmware, systemEmulator, systemEmulatorPackage } from "../../model/arch";
import type { NetworkMode } from "../../model/nethost";
import type { Backend } from "../backends/backend";
import { directBackend } from "../backends/direct";
import { guestfsBackend } from "../backends/guestfs";
import { guestfsEnvironment, kvmVerdict } from "../boot/accel";
import { AAVMF, defaultBootTimeoutMs, hasUefiFirmware } from "../boot/qemu";
import { cacheDir } from "../cache/dirs";
import { FileCache } from "../cache/filecache";
import { contentDigest } from "./digest";
import { fromImageCache, toImageCache } from "./imagecache";
import { registrySession } from "../oci/crane";
import { ensureParent, publish, publishCached, pullFromCache, updateFromRegistry } from "./registry";
import { onPath } from "../run/host";
import { confirmEngine, interruptible, limiter } from "../run/interrupt";
import { fileLogger, memoryLogger, toStderr } from "../run/log";
import { sweepLayers } from "./layers";
import type { Layering } from "../../model/layers";
import { type ImageOutputs, imageOutputs, round1 } from "./outputs";
import { BuildProgress, type Cadence, LINES, NO_PROGRESS, type ProgressSink } from "../run/progress";
import { buildImage } from "./safebuild";

export type { ImageOutputs } from "./outputs";

export const BACKENDS: Record<"guestfs" | "direct", Backend> = { guestfs: guestfsBackend, direct: directBackend };

const oneAtATime = limiter(Math.max(1, Number(process.env.VM_IMAGES_PARALLEL) || Math.floor(os.cpus().length / 2)));

/** Every tool line on the provider's stderr too: the image's `verbose` input, or VM_IMAGES_VERBOSE=1. */
export function isVerbose(inputs: { verbose?: boolean }, env = process.env): boolean {
  return inputs.verbose === true || /^(1|true|yes)$/i.test(env.VM_IMAGES_VERBOSE ?? "");
}

/** The boot check's time limit: VM_IMAGES_BOOT_TIMEOUT seconds, else 6 minutes (20 for arm64, under TCG). */
function bootTimeoutMs(arch: string): number {
  const s = Number(process.env.VM_IMAGES_BOOT_TIMEOUT);
  return s > 0 ? s * 1000 : defaultBootTimeoutMs(arch);
}

/** What the host lacks to boot an image of `arch`: its qemu, and for UEFI the firmware; undefined when it has both. */
function missingForBoot(arch: string): string | undefined {
  if (!onPath(systemEmulator(arch))) return `${systemEmulator(arch)} is not installed (Debian package ${systemEmulatorPackage(arch)})`;
  if (bootFirmware(arch) === "uefi" && !hasUefiFirmware()) return `no UEFI firmware at ${AAVMF.code} (Debian package ${AAVMF.package})`;
  return undefined;
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
        // On by default where the arch's qemu (and firmware) is installed; `true` insists (a missing one then fails the build).
        const arch = archOf(inputs);
        const missing = isBootable(image) ? missingForBoot(arch) : undefined;
        const wantBoot = isBootable(image) && inputs.verifyBoot !== false && (inputs.verifyBoot === true || missing === undefined);
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
          progress.warn(`no boot check: ${missing}`);
        }
        // An arm64 guest (UEFI) runs under TCG: no KVM to probe.
        const bootAccel = async () => (bootFirmware(arch) === "uefi" ? "tcg" : await kvmVerdict(cache, memoryLogger(), signal));
        const bootCheck = wantBoot ? { accel: await bootAccel(), timeoutMs: bootTimeoutMs(arch) } : undefined;
        const built = await buildImage({
          dir: inputs.dir, image, parentPath: inputs.parentPath, arch: inputs.arch, suite: inputs.suite, mirror: inputs.mirror, snapshot: inputs.snapshot !== undefined,
          network: inputs.network as NetworkMode | undefined, allowHosts: inputs.allowHosts,
          baseDir: inputs.baseDir, hostPaths: inputs.hostPaths, mergeSteps: inputs.mergeSteps, backend, guestfsEnv: accel.env,
          cacheDir: cache, signal, progress, bootCheck, echo: isVerbose(inputs) ? toStderr : undefined,
          beforeCommit: confirmEngine, layering: inputs.layering as Layering | undefined, parentDigest: inputs.parentDigest,
          bounds: { buildMemory: inputs.buildMemory, buildTasks: inputs.buildTasks, buildCpus: inputs.buildCpus, buildTimeout: inputs.buildTimeout, buildFileSize: inputs.buildFileSize },
        });
        const outs = imageOutputs(inputs, {
          path: built.path, identity: built.identity, digest: built.digest, flatBytes: built.flatBytes, packages: built.packages, logFile: built.logFile, accel: accel.accel,
          stepSeconds: Object.fromEntries(built.timings.map((t) => [t.step, round1(t.seconds)])), seconds: built.seconds, source: "built",
        });
        await toImageCache(outs, files, bootCheck !== undefined, signal, built.packagesReport);
        // A parent's layer that the image before this one read, and nothing else does now, goes.
        const layerLog = fileLogger(built.logFile, undefined, { append: true });
        sweepLayers(inputs.dir, layerLog, `${inputs.name} layers`);
        await layerLog.close();
        return session ? await publish(outs, session, signal) : outs;
      } finally {
        session?.close();
        await progress.close();
      }
    }),
  );
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
  let outs: ImageOutputs = { ...olds, ...news, arch: archOf(news) };
  if (!sameIdentity(identityOf(olds.path), olds.identity)) return outs;
  // Recorded before digests were: hashed now, so that its children can be keyed by it.
  if (needsDigest(olds)) outs = { ...outs, digest: await oneAtATime(() => interruptible((signal) => contentDigest(olds.path, signal))) };
  if (!needsPublish(outs, outs)) return outs;
  const session = registrySession();
  try {
    return await oneAtATime(() => interruptible((signal) => publish(outs, session, signal)));
  } finally {
    session.close();
  }
}
