// Reading lvh's images.json from disk: the one answer to "would lvh build
// this file?".
import * as fs from "node:fs";
import { ConfigError, type ImageConfig } from "./config";
import { Forest } from "./forest";
import { type LvhImages, readLvhImages } from "./lvh";

/**
 * Read an lvh `images.json` verbatim, with the warnings about fields lvh
 * ignores. Throws a ConfigError naming the image and field for any file lvh
 * would refuse, duplicate image names and parent cycles included. Relative
 * local paths in its actions (upload, copy-in, tar-in, install-kernel) are
 * resolved against the directory of the file, as `lvh images build` does.
 */
export function readLvhImagesFile(file: string): LvhImages {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(undefined, file, `cannot read the images file: ${(err as Error).message}`);
  }
  const read = readLvhImages(text, file);
  Forest.of(read.images);
  return read;
}

/** The images of an lvh `images.json`, for every file lvh builds; throws for every file lvh refuses. */
export function loadLvhImagesFile(file: string): ImageConfig[] {
  return readLvhImagesFile(file).images;
}
