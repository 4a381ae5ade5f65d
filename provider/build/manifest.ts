// The images manifest: the forest's configuration saved as `images.json` in
// the images directory, as lvh does, so the directory describes itself and
// `lvh images build` can be pointed at it.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { sha256, sha256File } from "../model/hash";
import { writeFileAtomic } from "./files";

export interface ManifestInputs {
  /** The images directory. */
  dir: string;
  /** The images, in lvh's `images.json` spelling. */
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

export function renderManifest(images: unknown[]): string {
  return `${JSON.stringify(images, null, 2)}\n`;
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
