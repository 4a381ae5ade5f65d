// Fetching one published artifact without a Docker daemon:
//   the manifest digest REF names for the platform (manifests.ts: an
//     index's entry, or a plain manifest of that platform)
//   crane export REPO@DIGEST - the flattened file system, pinned to that digest
// Only regular files data/images/<name>.zst are used (model/oci.ts), each
// decompressed by zstd into a staging directory the caller made, sparse
// (its runs of zeros left as holes, as the image was built). A pull
// (pull.ts) fetches what it was asked for, and each overlay's parents
// (chain.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import { sbomFileName } from "../../model/sbom";
import { once } from "node:events";
import { pipeline } from "node:stream/promises";
import { CommandError, MINUTE, start } from "../run/exec";
import { imageEntry, parseRef, registryRefusal } from "../../model/oci";
import { craneExport, type RegistrySession } from "./crane";
import { digestOf, resolveForPlatform } from "./manifests";
import { parsePlatform, platformString } from "../../model/platforms";
import type { Logger } from "../run/log";
import { readTar } from "../../model/tar";

/** What fetching an artifact takes (a pull's request, less what to do with the files). */
export interface FetchRequest {
  ref: string;
  /** os/arch[/variant] (or arch) to pull: an index's entry for it, or a plain manifest of it. @default the host's, linux/amd64, as lvh's */
  platform?: string;
  /** Keep `<name>.zst` next to each image (lvh's --cache). */
  cache?: boolean;
  insecure?: boolean;
  /** Only these images: they must be in it, and others are not extracted (the registry cache pulls one image). */
  expect?: string[];
  /** Images it must not hold (those a stack builds itself), with why. */
  refuse?: { names: string[]; why: string };
  log: Logger;
  label: string;
  signal?: AbortSignal;
  session: RegistrySession;
  /** The most bytes one image may decompress to. @default MAX_IMAGE_BYTES */
  maxImageBytes?: number;
}

/**
 * How long crane may stream an image, and each zstd that it feeds may run:
 * lvh images are gigabytes.
 */
const PULL_TIMEOUT_MS = 60 * MINUTE;

/**
 * The most bytes one pulled image may decompress to: a few kilobytes of
 * zstd can hold terabytes of zeros, which would fill the images' disk. lvh
 * images are a few gigabytes.
 */
export const MAX_IMAGE_BYTES = 64 * 2 ** 30;

export function hostPlatform(): string {
  const arch = ({ x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x" } as Record<string, string>)[process.arch] ?? process.arch;
  return `linux/${arch}`;
}

/**
 * The digest `ref` points to now, for the platform: an index's entry for it,
 * or a plain manifest of it (manifests.ts; one of another platform is
 * refused, naming both). Rejects with a RegistryError (`notFound` for a
 * missing tag). `manifestOnly`: the digest of the manifest itself, whatever
 * it is, from one HEAD request (a build key's tag: a plain manifest of the
 * key's architecture, never an index).
 */
export async function resolveDigest(req: FetchRequest, opts: { manifestOnly?: boolean } = {}): Promise<string> {
  const parsed = parseRef(req.ref);
  const refusal = registryRefusal(parsed.host, !!req.insecure);
  if (refusal) throw new Error(refusal);
  const o = { log: req.log, label: req.label, signal: req.signal, session: req.session, insecure: req.insecure };
  if (opts.manifestOnly) return digestOf(req.ref, o);
  return resolveForPlatform(req.ref, parsePlatform(req.platform ?? hostPlatform()), o);
}

async function writeAll(w: NodeJS.WritableStream, chunk: Buffer): Promise<void> {
  if (!w.write(chunk)) await once(w, "drain");
}

/**
 * Extract the images of `pinned` (repository@digest) into `staging`; returns
 * their names. `into` names the directory the files are for, in messages.
 */
export async function extractImages(pinned: string, staging: string, into: string, req: FetchRequest): Promise<string[]> {
  const { host } = parseRef(pinned);
  const names: string[] = [];
  const exp = craneExport(`pulling ${pinned}`, host, pinned, { ...req, platform: platformString(parsePlatform(req.platform ?? hostPlatform())), timeoutMs: PULL_TIMEOUT_MS });
  let refusal: unknown;
  // Whether we refused what crane sent (an entry we will not write), rather than failed to read or write it.
  let ours = false;
  try {
    await readTar(exp.stdout as AsyncIterable<Buffer>, async (entry, data) => {
      let image: string | undefined;
      try {
        const sbomOf = sbomImage(entry);
        if (sbomOf !== undefined) {
          if (req.expect && !req.expect.includes(sbomOf)) return;
          await extractSbom(sbomOf, entry.size, data, staging);
          return;
        }
        image = imageEntry(entry);
        if (image === undefined || (req.expect && !req.expect.includes(image))) return;
        if (req.refuse?.names.includes(image)) throw new Error(`it holds ${image}, ${req.refuse.why}`);
        if (names.includes(image)) throw new Error(`${entry.name}: the image holds it twice`);
      } catch (err) {
        ours = true;
        throw err;
      }
      names.push(image);
      await extractOne(image, entry.size, data, staging, req);
    });
  } catch (err) {
    refusal = err;
    exp.stop();
  }
  // A crane that failed on its own is the cause of a broken stream: its
  // RegistryError first. After a refusal of ours, crane's end (a broken
  // pipe, if it wrote on before it was stopped) is only its consequence.
  await (ours ? exp.done.catch(() => undefined) : exp.done);
  if (refusal) throw new Error(`${req.ref}: refused: ${(refusal as Error).message}; nothing was written to ${into}`);
  if (names.length === 0) throw new Error(`${req.ref}: no data/images/<image>.zst in the image: not an lvh image`);
  const missing = (req.expect ?? []).filter((n) => !names.includes(n));
  if (missing.length) throw new Error(`${req.ref}: does not hold ${missing.join(", ")} (it holds ${names.join(", ")})`);
  return names;
}

/** The largest SBOM a pull takes. */
const MAX_SBOM_BYTES = 64 * 2 ** 20;

/** The image whose SBOM an entry is (data/sbom/<image>.cdx.json, a regular file with a plain name), if it is one. */
function sbomImage(entry: { name: string; type: string }): string | undefined {
  const m = /^(?:\.\/)?data\/sbom\/([A-Za-z0-9][A-Za-z0-9._-]*)\.cdx\.json$/.exec(entry.name);
  return m && entry.type === "file" ? m[1] : undefined;
}

/** An image's SBOM into the staging directory, beside the image. */
async function extractSbom(image: string, size: number, data: AsyncIterable<Buffer>, staging: string): Promise<void> {
  if (size > MAX_SBOM_BYTES) throw new Error(`data/sbom/${image}.cdx.json: ${size} bytes, more than an SBOM may have`);
  const chunks: Buffer[] = [];
  for await (const chunk of data) chunks.push(chunk);
  const exclusive = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
  const fd = fs.openSync(path.join(staging, sbomFileName(image)), exclusive, 0o644);
  try {
    fs.writeSync(fd, Buffer.concat(chunks));
  } finally {
    fs.closeSync(fd);
  }
}

/** Decompress one image's .zst data into the staging directory (and keep the .zst with `cache`). */
async function extractOne(image: string, size: number, data: AsyncIterable<Buffer>, staging: string, req: FetchRequest): Promise<void> {
  const exclusive = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
  const keep = req.cache ? fs.createWriteStream("", { fd: fs.openSync(path.join(staging, `${image}.zst`), exclusive, 0o644) }) : undefined;
  const out = fs.openSync(path.join(staging, image), exclusive, 0o644);
  const bound = req.maxImageBytes ?? MAX_IMAGE_BYTES;
  let n = 0;
  try {
    // The kernel holds the bound while zstd writes (RLIMIT_FSIZE: a write
    // past it fails), with no copy of the output through us; no core file.
    // --sparse: zstd seeks over runs of zeros instead of writing them (its
    // stdout is the file, which it can seek in), so a sparse raw image stays
    // sparse, with the same bytes: an 8 GiB image with 300 MiB of data takes
    // 300 MiB, not 8 GiB, and decompresses in about 3 s instead of 27 s.
    const z = start("prlimit", [`--fsize=${bound}`, "--core=0", "--", "zstd", "-d", "-q", "-c", "--sparse"], {
      label: req.label, log: req.log, signal: req.signal, timeoutMs: PULL_TIMEOUT_MS, stdin: "pipe", stdout: out,
    });
    const fed = pipeline(async function* () {
      for await (const chunk of data) {
        n += chunk.length;
        if (keep) await writeAll(keep, chunk);
        yield chunk;
      }
    }, z.stdin!).then(() => undefined, (err: unknown) => err);
    const feedError = await fed;
    // zstd's own failure (its exit code and stderr) says more than the EPIPE
    // of a write to a zstd that has ended.
    await z.done.catch((err: Error) => {
      // A write past the bound fails with EFBIG (node ignores SIGXFSZ, and so
      // do its children). Sparse, the file is shorter than the bound then:
      // zstd seeked over the zeros and failed at its next write.
      const efbig = err instanceof CommandError && err.stderrTail.some((l) => l.includes("File too large"));
      if (efbig || fs.fstatSync(out).size >= bound) {
        throw new Error(`data/images/${image}.zst decompresses to more than ${bound} bytes, the most a pulled image may have`);
      }
      throw new Error(`data/images/${image}.zst: ${err.message}`);
    });
    if (feedError) throw feedError;
  } finally {
    fs.closeSync(out);
    if (keep) {
      keep.end();
      await once(keep, "close");
    }
  }
  if (n !== size) throw new Error(`data/images/${image}.zst: ${n} of ${size} bytes`);
}
