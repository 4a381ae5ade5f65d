// The root program of the vm-images project (Pulumi.yaml `main`): builds the
// image forest of the stack's images file. See docs/configuration.md for the config keys.
import * as pulumi from "@pulumi/pulumi";
import { ImageForest, reportConfigErrors } from "./provider";
import { parseStackConfig } from "./provider/model/stackconfig";
import { splitUrlCredentials } from "./provider/model/urlcredentials";
import { FOREST_NAME } from "./provider/model/urns";

/** When this run of the program began: an image built after it was built by this `up`. */
const started = Date.now();

const MIRROR_KEY = "vm-images:mirror";
/** Whether a key was set with --secret (the SDK's own check; not in its type declarations). */
const isConfigSecret = (key: string) =>
  (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret?.(key) ?? false;
// A bad stack setting or images file: every problem as an error of its own, without a stack trace.
const forest = reportConfigErrors(() => {
  const settings = parseStackConfig(pulumi.runtime.allConfig(), pulumi.runtime.getRootDirectory());
  // A mirror set with --secret, or holding user:password, stays a secret: encrypted in the state, [secret] in the output.
  const mirrorIsSecret = settings.mirror !== undefined &&
    (isConfigSecret(MIRROR_KEY) || splitUrlCredentials(settings.mirror).authConf !== "");
  return new ImageForest(FOREST_NAME, {
    ...settings,
    mirror: mirrorIsSecret ? new pulumi.Config("vm-images").requireSecret("mirror") : settings.mirror,
  });
});

/** Per image: its path, format, architecture, sizes (file, disk, on disk, and an overlay's flat file's), build key, content digest, installed packages (count, digest, SBOM file), backend, parent, and where it came from and is published. */
export const images = Object.fromEntries(
  Object.entries(forest.images).map(([name, img]) => [
    name,
    {
      path: img.path,
      format: img.format,
      sizeBytes: img.sizeBytes,
      virtualBytes: img.virtualBytes,
      allocatedBytes: img.allocatedBytes,
      flatBytes: img.flatBytes,
      buildKey: img.buildKey,
      digest: img.digest,
      installedPackages: img.installedPackages,
      sbom: img.sbom,
      backend: img.backend,
      arch: img.arch,
      parent: img.parent,
      logFile: img.logFile,
      source: img.source,
      published: img.published,
      publishError: img.publishError,
    },
  ]),
);

/** Per pulled reference: the digest it was pulled at and the images it holds. */
export const pulled = Object.fromEntries(
  Object.entries(forest.pulled).map(([ref, p]) => [ref, { pinned: p.pinned, images: p.images }]),
);

/**
 * Per image, what this `up` did: "built" or "reused" (unchanged, kept from
 * an earlier build), its architecture, the seconds its build took, its boot check's share,
 * its disk's size, its file size and the bytes it takes on disk (for an
 * overlay, against its flat file's), how many packages it has installed, and its content digest.
 * `npm start` prints it as a table.
 */
export const summary = Object.fromEntries(
  Object.entries(forest.images).map(([name, img]) => [
    name,
    pulumi.all([
      pulumi.all([img.builtAt, img.buildSeconds, img.stepSeconds, img.sizeBytes, img.allocatedBytes, img.virtualBytes, img.flatBytes, img.digest]),
      img.installedPackages,
      img.arch,
    ]).apply(
      ([[builtAt, seconds, steps, sizeBytes, allocatedBytes, virtualBytes, flatBytes, digest], installed, arch]) => ({
        result: builtAt !== undefined && Date.parse(builtAt) >= started ? "built" : "reused",
        arch,
        seconds,
        bootCheckSeconds: steps?.["boot check"],
        sizeBytes,
        allocatedBytes,
        virtualBytes,
        flatBytes,
        digest,
        packages: installed?.count,
      }),
    ),
  ]),
);
