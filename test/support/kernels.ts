// Debian cloud kernel packages that the mirror has, read from the package
// lists a root build leaves in the cache (so after one, with the same mirror).
import * as fs from "node:fs";
import * as path from "node:path";
import { aptListsCacheDir, cacheDir } from "../../provider/builder/cache/dirs";

/** Two versioned cloud kernels of the mirror's indexes (the oldest two), besides the current one. */
export function cloudKernels(cache: string = cacheDir()): string[] {
  const lists = aptListsCacheDir(cache);
  const abis = new Set<number>();
  const files = fs.existsSync(lists) ? fs.readdirSync(lists).filter((n) => n.endsWith("_binary-amd64_Packages")) : [];
  for (const f of files) {
    for (const m of fs.readFileSync(path.join(lists, f), "utf8").matchAll(/^Package: linux-image-6\.1\.0-(\d+)-cloud-amd64$/gm)) abis.add(Number(m[1]));
  }
  const sorted = [...abis].sort((a, b) => a - b);
  if (sorted.length <= 2) {
    throw new Error(`versioned cloud kernels in the mirror's indexes (${lists}): ${sorted.length}, expected more than 2 (a root build fills them)`);
  }
  return ["linux-image-cloud-amd64", ...sorted.slice(0, 2).map((n) => `linux-image-6.1.0-${n}-cloud-amd64`)];
}
