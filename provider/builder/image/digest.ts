// An image file's content digest, "sha256:<64 hex>" as `sha256sum` prints
// it: what a derived image's build key takes from its parent, and what the
// registry's annotation says. Raw images are sparse files of gigabytes;
// node's OpenSSL hashes them with the CPU's SHA instructions where there are
// some, several times faster than coreutils' sha256sum (8 GiB: about 6 s
// against 27 s). Read in large chunks, so the event loop is never held for
// long and an interrupt is seen between chunks.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { InterruptedError } from "../run/steps";

/** The bytes read at a time: large enough that the hash, not the reads, is the cost. */
const CHUNK = 8 * 2 ** 20;

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** The sha256 of a file's bytes, as "sha256:<hex>"; an abort is the interruption of image `name`'s build. */
export async function contentDigest(file: string, signal?: AbortSignal, name = path.basename(file)): Promise<string> {
  const hash = crypto.createHash("sha256");
  const handle = await fs.promises.open(file, "r");
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let pos = 0; ;) {
      if (signal?.aborted) throw new InterruptedError(name);
      const { bytesRead } = await handle.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) break;
      hash.update(bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return `sha256:${hash.digest("hex")}`;
}
