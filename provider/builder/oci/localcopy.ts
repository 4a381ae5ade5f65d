// With a registry, an image is its published artifact (repository@digest)
// and the file in the images directory is one machine's copy of it. Which
// artifact a local file is a copy of is recorded next to it, on this machine
// only (the shared state cannot know another runner's files): a hidden
// `.<name>.published` holding the artifact and the file's identity when it
// was built or pulled. A copy is good while both still match; anything else
// (no file, no record, a changed file, an overlay whose parent layers are
// not all there) is fetched again, never rebuilt.
import * as fs from "node:fs";
import * as path from "node:path";
import { type FileIdentity, identityOf, sameIdentity } from "../../model/identity";
import { writeFileAtomicSync } from "../run/files";
import { chainPresent } from "../image/layercheck";

interface LocalRecord {
  published: string;
  identity: FileIdentity;
}

export function localRecordPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.published`);
}

/** Record that `file`, as it is now, is a copy of `published` (repository@digest). */
export function recordLocalCopy(file: string, published: string): void {
  const identity = identityOf(file);
  if (!identity) return;
  writeFileAtomicSync(localRecordPath(file), `${JSON.stringify({ published, identity } satisfies LocalRecord)}\n`);
}

/** Whether `file` is, unchanged, a copy of `published`, with the parent layers it reads if it is an overlay. */
export function isLocalCopy(file: string, published: string): boolean {
  let record: LocalRecord;
  try {
    record = JSON.parse(fs.readFileSync(localRecordPath(file), "utf8")) as LocalRecord;
  } catch {
    return false;
  }
  return record.published === published && sameIdentity(record.identity, identityOf(file)) && chainPresent(file);
}

export function forgetLocalCopy(file: string): void {
  fs.rmSync(localRecordPath(file), { force: true });
}
