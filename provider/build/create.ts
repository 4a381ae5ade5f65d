// Building an Image resource (its provider's `create`): at most a few builds
// at once per provider process, each interruptible, with the backend the
// check resolved, libguestfs's acceleration probed, progress on the image's
// row, and a boot check of bootable images.
import * as os from "node:os";
import { type CheckedImageInputs, imageConfigOf } from "../model/check";
import type { FileIdentity } from "../model/identity";
import { imageFormat, isBootable } from "../model/image";
import { guestfsEnvironment, kvmVerdict } from "./accel";
import type { Backend } from "./backends/backend";
import { directBackend } from "./backends/direct";
import { guestfsBackend } from "./backends/guestfs";
import { DEFAULT_BOOT_TIMEOUT_MS } from "./bootcheck";
import { cacheDir } from "./cache";
import { onPath } from "./host";
import { buildImage } from "./imagebuild";
import { interruptible, limiter } from "./interrupt";
import { memoryLogger, toStderr } from "./log";
import { BuildProgress, type Cadence, LINES, NO_PROGRESS, type ProgressSink } from "./progress";

export interface ImageOutputs extends CheckedImageInputs {
  path: string;
  format: "raw" | "qcow2";
  sizeBytes: number;
  /** Bytes the file takes on disk. */
  allocatedBytes: number;
  identity: FileIdentity;
  logFile: string;
  accel: string;
  stepSeconds: Record<string, number>;
  /** When the build that made the file finished (ISO 8601), and how long it took. */
  builtAt: string;
  buildSeconds: number;
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

export function createImage(inputs: CheckedImageInputs, sink: ProgressSink = NO_PROGRESS, cadence: Cadence = LINES): Promise<ImageOutputs> {
  const image = imageConfigOf(inputs);
  const backend = BACKENDS[inputs.backend];
  const progress = new BuildProgress(sink, cadence);
  return oneAtATime(() =>
    interruptible(async (signal) => {
      const cache = cacheDir();
      const accel = await guestfsEnvironment(cache, memoryLogger(), signal);
      // On by default where qemu is installed; `true` insists (a missing qemu then fails the build).
      const wantBoot = isBootable(image) && inputs.verifyBoot !== false && (inputs.verifyBoot === true || onPath("qemu-system-x86_64"));
      if (isBootable(image) && inputs.verifyBoot === undefined && !wantBoot) {
        progress.warn("no boot check: qemu-system-x86_64 is not installed (Debian package qemu-system-x86)");
      }
      const bootCheck = wantBoot ? { accel: await kvmVerdict(cache, memoryLogger(), signal), timeoutMs: bootTimeoutMs() } : undefined;
      try {
        const built = await buildImage({
          dir: inputs.dir, image, parentPath: inputs.parentPath, suite: inputs.suite, mirror: inputs.mirror,
          baseDir: inputs.baseDir, mergeSteps: inputs.mergeSteps, backend, guestfsEnv: accel.env,
          cacheDir: cache, signal, progress, bootCheck, echo: isVerbose(inputs) ? toStderr : undefined,
        });
        return {
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
        };
      } finally {
        await progress.close();
      }
    }),
  );
}
