// Small file-system helpers: atomic writes.
import * as fsSync from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";

/** Beside `file`, hidden, named after this process: readers never see it, and a killed writer's is recognisable. */
const tempPath = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);

/** Write via a temp file in the same directory and rename, so readers never see half a file. */
export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempPath(file);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** writeFileAtomic, for callers that cannot wait (a record written right after a file is renamed into place). */
export function writeFileAtomicSync(file: string, data: string | Buffer): void {
  const tmp = tempPath(file);
  try {
    fsSync.writeFileSync(tmp, data);
    fsSync.renameSync(tmp, file);
  } finally {
    fsSync.rmSync(tmp, { force: true });
  }
}
