// What identifies an image file on disk, so that we never delete or trust
// a file we did not build.
import * as fs from "node:fs";

export interface FileIdentity {
  ino: number;
  size: number;
  mtimeMs: number;
}

export function identityOf(file: string): FileIdentity | undefined {
  try {
    const st = fs.statSync(file);
    return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return undefined;
  }
}

export function sameIdentity(a: FileIdentity | undefined, b: FileIdentity | undefined): boolean {
  return !!a && !!b && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}
