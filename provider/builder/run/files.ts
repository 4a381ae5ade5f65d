// Small file-system helpers: atomic writes, durable renames.
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

/** The calls renameDurably makes: node:fs's, or a test's that records them. */
export type DurableIo = Pick<typeof fsSync, "openSync" | "fsyncSync" | "closeSync" | "renameSync">;

/**
 * Rename `from` to `to` so that a crash or power loss right after cannot
 * leave `to` naming a file whose data never reached the disk, or the
 * directory without the new name: the file is flushed, renamed, then the
 * directory that names it flushed, all before this returns.
 */
export function renameDurably(from: string, to: string, io: DurableIo = fsSync): void {
  const flush = (file: string) => {
    const fd = io.openSync(file, "r");
    try {
      io.fsyncSync(fd);
    } finally {
      io.closeSync(fd);
    }
  };
  flush(from);
  io.renameSync(from, to);
  flush(path.dirname(to));
}
