// A cold sample must have built everything itself: every image the forest
// names, each from scratch ("built", not the image cache, not a registry),
// and each root with its own mmdebstrap (not a cached packages stage). The
// bench stops at the first sample that did not: its time would flatter it.
// Pure.
import type { ImageSample } from "./results";

/** The step a root build runs unless it takes a cached packages stage. */
export const BOOTSTRAP_STEP = "bootstrap root file system (mmdebstrap)";

export interface ForestImage {
  name: string;
  parent?: string;
}

/** What a cold `up`'s outputs show it reused or left out; empty when it built every image itself. */
export function coldReuse(forest: ForestImage[], images: Record<string, ImageSample>): string[] {
  const problems: string[] = [];
  for (const image of forest) {
    const out = images[image.name];
    if (!out) {
      problems.push(`${image.name}: not among the stack's outputs`);
      continue;
    }
    if (out.source !== "built") problems.push(`${image.name}: source "${out.source}", not "built"`);
    else if (!image.parent && !(BOOTSTRAP_STEP in out.steps)) {
      problems.push(`${image.name}: no mmdebstrap step (its packages stage came from a cache: ${Object.keys(out.steps).join(", ")})`);
    }
  }
  for (const name of Object.keys(images)) if (!forest.some((i) => i.name === name)) problems.push(`${name}: not in the forest`);
  return problems;
}

/** For lvh, which has no outputs: each image the forest names must be a file written after the build started. */
export function lvhMissing(forest: ForestImage[], files: Record<string, number | undefined>, startedMs: number): string[] {
  return forest.flatMap((i) => {
    const mtime = files[i.name];
    if (mtime === undefined) return [`${i.name}: lvh wrote no such file`];
    return mtime < startedMs ? [`${i.name}: older than the build (not written by it)`] : [];
  });
}
