// The images manifest: a forest's configuration written as the
// `images.json` that `lvh images build --dir DIR` reads from DIR: a bare
// list of images in lvh's spelling, validated first.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { Forest } from "../../model/forest";
import { sha256, sha256File } from "../../model/hash";
import { toLvhImage } from "../../model/lvh";
import { writeFileAtomic } from "../run/files";

export interface ManifestInputs {
  /** lvh's `--dir`: the manifest is DIR/images.json (lvh builds the images into DIR/images/). */
  dir: string;
  /** The images, in the TypeScript spelling (`ImageConfigInput`); written in lvh's. */
  images: unknown[];
}

export interface ManifestOutputs extends ManifestInputs {
  /** Path of the written manifest. */
  path: string;
  /** sha256 of the manifest's content. */
  sha256: string;
}

export const MANIFEST_NAME = "images.json";

export function manifestPath(dir: string): string {
  return path.join(dir, MANIFEST_NAME);
}

/** Validate the images (fields, names, parents) and render them as lvh's images.json; throws a ConfigError with every problem. */
export function renderManifest(images: unknown[]): string {
  return `${JSON.stringify(Forest.parse(images).images.map(toLvhImage), null, 2)}\n`;
}

export async function writeManifest(inputs: ManifestInputs): Promise<ManifestOutputs> {
  const content = renderManifest(inputs.images);
  const file = manifestPath(inputs.dir);
  await writeFileAtomic(file, content);
  return { ...inputs, path: file, sha256: sha256(content) };
}

/** Remove the manifest only if it is still the one we wrote: never a file someone else put there. */
export async function removeManifest(outs: ManifestOutputs): Promise<void> {
  const current = await currentSha256(outs.path);
  if (current === outs.sha256) await fs.rm(outs.path, { force: true });
}

/** sha256 of the file now at `file`, or undefined if there is none. */
export async function currentSha256(file: string): Promise<string | undefined> {
  try {
    return await sha256File(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
