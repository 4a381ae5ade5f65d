// Building an Image resource (its provider's `create`): at most a few builds
// at once per provider process, each interruptible, with the backend the
// check resolved and libguestfs's acceleration probed.
import * as os from "node:os";
import { type CheckedImageInputs, imageConfigOf } from "../model/check";
import type { FileIdentity } from "../model/identity";
import { imageFormat } from "../model/image";
import { guestfsEnvironment } from "./accel";
import type { Backend } from "./backends/backend";
import { directBackend } from "./backends/direct";
import { guestfsBackend } from "./backends/guestfs";
import { cacheDir } from "./cache";
import { buildImage } from "./imagebuild";
import { interruptible, limiter } from "./interrupt";
import { memoryLogger } from "./log";

export interface ImageOutputs extends CheckedImageInputs {
  path: string;
  format: "raw" | "qcow2";
  sizeBytes: number;
  identity: FileIdentity;
  logFile: string;
  accel: string;
  stepSeconds: Record<string, number>;
}

export const BACKENDS: Record<"guestfs" | "direct", Backend> = { guestfs: guestfsBackend, direct: directBackend };

const oneAtATime = limiter(Math.max(1, Number(process.env.VM_IMAGES_PARALLEL) || Math.floor(os.cpus().length / 2)));

export function createImage(inputs: CheckedImageInputs): Promise<ImageOutputs> {
  const image = imageConfigOf(inputs);
  const backend = BACKENDS[inputs.backend];
  return oneAtATime(() =>
    interruptible(async (signal) => {
      const cache = cacheDir();
      const accel = await guestfsEnvironment(cache, memoryLogger(), signal);
      process.stderr.write(`${image.name} | backend: ${backend.name}; libguestfs acceleration: ${accel.accel}\n`);
      const built = await buildImage({
        dir: inputs.dir, image, parentPath: inputs.parentPath, suite: inputs.suite, mirror: inputs.mirror,
        baseDir: inputs.baseDir, mergeSteps: inputs.mergeSteps, backend, guestfsEnv: accel.env,
        cacheDir: cache, signal,
      });
      return {
        ...inputs,
        path: built.path,
        format: imageFormat(image.name),
        sizeBytes: built.sizeBytes,
        identity: built.identity,
        logFile: built.logFile,
        accel: accel.accel,
        stepSeconds: Object.fromEntries(built.timings.map((t) => [t.step, Math.round(t.seconds * 10) / 10])),
      };
    }),
  );
}
