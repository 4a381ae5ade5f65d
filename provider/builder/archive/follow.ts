// Following the Debian archive (vm-images:followArchive): an image's
// installed packages, as its SBOM lists them, against the package indices
// its apt sources serve now. Only the indices are downloaded (the InRelease
// of each source, then its Packages files, checked against the InRelease's
// hashes); nothing is built. Indices are kept in this process by their
// digest, so that the images of one preview share each download.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { type ArchiveUpdate, archiveUpdates, type IndexFetchPolicy, type IndexFile, indexVersions, packagesIndexFiles, releaseFiles, sourceRefusal } from "../../model/archive";
import type { AptSource } from "../../model/aptsources";
import type { ReadSbom } from "../../model/sbom";
import { fetchSuiteFile } from "../cache/rootstage";
import { MINUTE, run } from "../run/exec";
import { memoryLogger } from "../run/log";

const INDEX_TIMEOUT_MS = 2 * MINUTE;

/** Each Packages index's versions by its sha256 (the InRelease names each by it). */
const parsed = new Map<string, Promise<Map<string, string[]>>>();

async function decompress(file: IndexFile, data: Buffer, signal?: AbortSignal): Promise<string> {
  if (file.compression === "none") return data.toString("utf8");
  if (file.compression === "gz") return gunzipSync(data).toString("utf8");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-index-"));
  try {
    fs.writeFileSync(path.join(dir, "Packages.xz"), data);
    return await run("xz", ["-dc", path.join(dir, "Packages.xz")], { label: "xz", log: memoryLogger(), signal, timeoutMs: INDEX_TIMEOUT_MS, capture: "quiet" });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One Packages index's versions, its file checked against the hash its InRelease gives it. */
function versionsOf(source: AptSource, file: IndexFile, mirror: string | undefined, signal?: AbortSignal): Promise<Map<string, string[]>> {
  const known = parsed.get(file.sha256);
  if (known) return known;
  const where = `${source.uri.replace(/\/+$/, "")}/dists/${source.suite}/${file.path}`;
  const versions = (async () => {
    const { data, reason } = await fetchSuiteFile(source.uri, source.suite, file.path, mirror, signal, INDEX_TIMEOUT_MS);
    if (!data) throw new Error(`cannot read ${reason}`);
    const sha = createHash("sha256").update(data).digest("hex");
    if (sha !== file.sha256 || data.length !== file.size) throw new Error(`${where}: not the file its InRelease lists (sha256 ${sha}, ${data.length} bytes)`);
    return indexVersions([await decompress(file, data, signal)]);
  })();
  parsed.set(file.sha256, versions);
  versions.catch(() => parsed.delete(file.sha256));
  return versions;
}

/** The architecture the image's dpkg installs for: dpkg's own. */
function nativeArchitecture(sbom: ReadSbom): string {
  return sbom.packages.find((p) => p.name === "dpkg")?.architecture ?? "amd64";
}

/**
 * The packages of an image (its SBOM) that its sources have newer versions
 * of now. Throws, naming the source, when an index cannot be read, or when
 * a source is not one the build host fetches from (`policy`): a preview
 * that cannot see the archive does not guess.
 */
export async function archiveUpdatesOf(sbom: ReadSbom, policy: IndexFetchPolicy, signal?: AbortSignal): Promise<ArchiveUpdate[]> {
  if (!sbom.sources.length) throw new Error("its SBOM lists no apt source");
  // Nothing is asked of a source the build host does not fetch from.
  for (const source of sbom.sources) {
    const refusal = sourceRefusal(source.uri, policy);
    if (refusal) throw new Error(`not following ${source.uri} ${source.suite}: ${refusal}`);
  }
  const { mirror } = policy;
  const arch = nativeArchitecture(sbom);
  const texts = await Promise.all(sbom.sources.map(async (source) => {
    const { data, reason } = await fetchSuiteFile(source.uri, source.suite, "InRelease", mirror, signal);
    if (!data) throw new Error(`cannot read ${reason}`);
    const files = packagesIndexFiles(releaseFiles(data.toString("utf8")), source, arch);
    if (!files.length) throw new Error(`${source.uri} ${source.suite}: its InRelease lists no Packages index for ${arch} in ${source.components.join(" ")}`);
    return Promise.all(files.map((f) => versionsOf(source, f, mirror, signal)));
  }));
  const all = new Map<string, string[]>();
  for (const versions of texts.flat()) for (const [id, list] of versions) all.set(id, [...(all.get(id) ?? []), ...list]);
  return archiveUpdates(sbom.packages, all);
}
