// Reading lvh's images.json from disk.
import * as fs from "node:fs";
import { ConfigError, type ImageConfig } from "./config";
import { parseLvhImages } from "./lvh";

/**
 * Load an lvh `images.json` verbatim. Relative local paths in its actions
 * (upload, copy-in, tar-in, install-kernel) are resolved against the
 * directory of the file, as `lvh images build` resolves them.
 */
export function loadLvhImagesFile(file: string): ImageConfig[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(undefined, file, `cannot read the images file: ${(err as Error).message}`);
  }
  return parseLvhImages(text, file);
}
