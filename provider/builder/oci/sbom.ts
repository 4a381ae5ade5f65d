// A published image's SBOM, read from the registry without the image: the
// layer its annotation names (publish.ts), fetched by digest with `crane
// blob`, decompressed, and its data/sbom/<image>.cdx.json taken.
import { gunzipSync } from "node:zlib";
import { DIGEST_PATTERN, parseRef, SBOM_ANNOTATION } from "../../model/oci";
import { readTar } from "../../model/tar";
import { annotationsOf } from "./chain";
import { craneBlob } from "./crane";
import type { FetchRequest } from "./fetch";

const MAX_SBOM_LAYER_BYTES = 64 * 2 ** 20;

/** The SBOM text of the artifact `ref` (repository:tag or @digest) for `image`; undefined where it was published without one. */
export async function publishedSbom(ref: string, image: string, req: FetchRequest): Promise<string | undefined> {
  const layer = (await annotationsOf(ref, req))[SBOM_ANNOTATION];
  if (!layer || !DIGEST_PATTERN.test(layer)) return undefined;
  const { repository, host } = parseRef(ref);
  const blob = craneBlob(`reading the SBOM of ${ref}`, host, `${repository}@${layer}`, { ...req, timeoutMs: 5 * 60_000 });
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of blob.stdout as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > MAX_SBOM_LAYER_BYTES) {
      blob.stop();
      await blob.done.catch(() => undefined);
      throw new Error(`${repository}@${layer}: an SBOM layer of more than ${MAX_SBOM_LAYER_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  await blob.done;
  const raw = Buffer.concat(chunks);
  const tar = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  let text: string | undefined;
  await readTar((async function* () { yield tar; })(), async (entry, data) => {
    const parts: Buffer[] = [];
    for await (const c of data) parts.push(c);
    if (entry.name.replace(/^\.\//, "") === `data/sbom/${image}.cdx.json`) text = Buffer.concat(parts).toString("utf8");
  });
  return text;
}
