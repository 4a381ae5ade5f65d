// What is inside an image file, for a verification that did not reproduce
// it: the file system's files listed through libguestfs, read-only
// (`guestfish --ro`, `tar-out`: works for raw and qcow2, partitioned or
// not, and mounts nothing on the host), each with its type, mode, owner,
// size, time and content digest; or diffoscope's report, where it is
// installed.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { type FileListing, listedPath } from "../../model/filediff";
import { readTar } from "../../model/tar";
import { CommandError, MINUTE, run, start } from "../run/exec";
import type { Logger } from "../run/log";

export interface ListRequest {
  file: string;
  format: "raw" | "qcow2";
  /** libguestfs's environment (boot/accel.ts). */
  env: Record<string, string>;
  log: Logger;
  label: string;
  signal?: AbortSignal;
}

/** Every file of the image's root file system, by path. */
export async function listImageFiles(req: ListRequest): Promise<FileListing> {
  const listing: FileListing = new Map();
  // The root file system is the disk's first partition (a bootable image) or
  // the whole disk: whichever mounts (a leading `-` lets a command fail).
  // Inspection (-i) would not recognise a minbase root.
  const script = "run\n-mount-ro /dev/sda1 /\n-mount-ro /dev/sda /\ntar-out / - numericowner:true\n";
  const g = start("guestfish", ["--ro", `--format=${req.format}`, "-a", req.file], {
    label: req.label, log: req.log, signal: req.signal, timeoutMs: 60 * MINUTE, env: req.env, stdout: "pipe", input: script,
  });
  let failure: unknown;
  try {
    await readTar(g.stdout as AsyncIterable<Buffer>, async (entry, data) => {
      let sha256: string | undefined;
      if (entry.type === "file") {
        const hash = crypto.createHash("sha256");
        for await (const chunk of data) hash.update(chunk);
        sha256 = hash.digest("hex");
      }
      // A hard link is the file it links to: which of its names tar meets
      // first follows the directory order, which two images need not share.
      const target = entry.type === "hardlink" ? listing.get(listedPath(entry.linkname)) : undefined;
      if (target) {
        listing.set(listedPath(entry.name), target);
        return;
      }
      const link = entry.type === "symlink" || entry.type === "hardlink" ? entry.linkname : undefined;
      listing.set(listedPath(entry.name), {
        type: entry.type, mode: entry.mode, uid: entry.uid, gid: entry.gid, size: entry.size, sha256, link, mtime: entry.mtime,
      });
    });
  } catch (err) {
    failure = err;
    g.stop();
  }
  // guestfish's own failure (it could not open or inspect the image) says more than a broken stream.
  await g.done;
  if (failure) throw new Error(`listing the files of ${req.file}: ${(failure as Error).message}`);
  if (listing.size <= 1) throw new Error(`listing the files of ${req.file}: no file system of it could be mounted (neither /dev/sda1 nor /dev/sda)`);
  return listing;
}

/**
 * diffoscope's text report of two image files, written to `report`;
 * whether they differ. diffoscope exits 1 when they do.
 */
export async function diffoscope(
  published: string, rebuilt: string, report: string, o: { env: Record<string, string>; log: Logger; label: string; signal?: AbortSignal },
): Promise<boolean> {
  fs.mkdirSync(path.dirname(report), { recursive: true });
  try {
    await run("diffoscope", ["--text", report, "--no-progress", published, rebuilt], {
      label: o.label, log: o.log, signal: o.signal, timeoutMs: 60 * MINUTE, env: o.env,
    });
    return false;
  } catch (err) {
    if (err instanceof CommandError && err.exitCode === 1 && !err.stopped && fs.existsSync(report)) return true;
    throw err;
  }
}
