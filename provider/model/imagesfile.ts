// Reading lvh's images.json from disk: the one answer to "would lvh build
// this file?".
import * as fs from "node:fs";
import { ConfigError, ConfigErrors, type ImageConfig } from "./config";
import { Forest } from "./forest";
import { type LvhImages, readLvhImagesCollecting } from "./lvh";

/**
 * Read an lvh `images.json` verbatim, with the warnings about fields lvh
 * ignores. Throws a ConfigError with every problem of a file lvh would
 * refuse (each after the file's path, naming the image and field),
 * duplicate image names and parent cycles included. Relative local paths
 * in its actions (upload, copy-in, tar-in, install-kernel) are resolved
 * against the directory of the file, as `lvh images build` does.
 */
export function readLvhImagesFile(file: string): LvhImages {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigErrors(file, [new ConfigError(undefined, "", `cannot read the images file: ${(err as Error).message}`)]);
  }
  const { images, warnings, problems } = readLvhImagesCollecting(text);
  // The duplicates and cycles among the valid images are problems whatever the others have.
  problems.push(...Forest.problemsOf(images));
  if (problems.length) throw new ConfigErrors(file, problems);
  return { images, warnings };
}

/** The images of an lvh `images.json`, for every file lvh builds; throws for every file lvh refuses. */
export function loadLvhImagesFile(file: string): ImageConfig[] {
  return readLvhImagesFile(file).images;
}
