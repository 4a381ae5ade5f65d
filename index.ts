// The root program of the vm-images project (Pulumi.yaml `main`): builds the
// image forest of the stack's images file. See README.md for the config keys.
import * as pulumi from "@pulumi/pulumi";
import { ImageForest } from "./provider";
import { parseStackConfig } from "./provider/model/stackconfig";
import { FOREST_NAME } from "./provider/model/urns";

const settings = parseStackConfig(pulumi.runtime.allConfig(), pulumi.runtime.getRootDirectory());
const forest = new ImageForest(FOREST_NAME, settings);

/** Per image: its path, format, size, build key, backend and parent. */
export const images = Object.fromEntries(
  Object.entries(forest.images).map(([name, img]) => [
    name,
    {
      path: img.path,
      format: img.format,
      sizeBytes: img.sizeBytes,
      buildKey: img.buildKey,
      backend: img.backend,
      parent: img.parent,
      logFile: img.logFile,
    },
  ]),
);
