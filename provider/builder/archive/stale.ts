// Whether the archive has moved under an image (vm-images:followArchive):
// its packages on record, from the SBOM beside it, or the one published
// with its build key, or the guest report an image cache entry keeps,
// against its sources' package indices now (follow.ts).
import * as path from "node:path";
import { describeUpdates, type IndexFetchPolicy } from "../../model/archive";
import { type ReadSbom, readSbom } from "../../model/sbom";
import { registrySession } from "../oci/crane";
import { publishedSbom } from "../oci/sbom";
import { memoryLogger } from "../run/log";
import { sbomOf } from "../image/packages";
import { archiveUpdatesOf } from "./follow";

export interface FollowedImage {
  dir: string;
  name: string;
  /** The build key it was published with. */
  buildKey: string;
  mirror?: string;
  allowHosts?: readonly string[];
  registry?: string;
  insecureRegistry?: boolean;
}

/** "the archive has newer versions: openssl A -> B, ..." where it has; undefined where it has none. */
export async function archiveMoved(packages: Pick<ReadSbom, "packages" | "sources">, policy: IndexFetchPolicy, signal?: AbortSignal): Promise<string | undefined> {
  const updates = await archiveUpdatesOf({ image: "", digest: "", ...packages }, policy, signal);
  return updates.length ? `the archive has newer versions: ${describeUpdates(updates)}` : undefined;
}

/** The SBOM an image's build key was published with, if it was. */
export async function registrySbom(image: FollowedImage, signal?: AbortSignal): Promise<ReadSbom | undefined> {
  if (!image.registry) return undefined;
  const session = registrySession();
  try {
    const ref = `${image.registry}:${image.buildKey}`;
    const text = await publishedSbom(ref, image.name, { ref, log: memoryLogger(), label: `${image.name} registry`, session, insecure: image.insecureRegistry, signal });
    return text === undefined ? undefined : readSbom(text);
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  } finally {
    session.close();
  }
}

/**
 * Why an image built before would be rebuilt now that the archive moved
 * (`reason`), or why it cannot be followed (`note`: it has no packages on record).
 */
export async function followArchive(image: FollowedImage, signal?: AbortSignal): Promise<{ reason?: string; note?: string }> {
  const sbom = sbomOf(path.join(image.dir, image.name), undefined) ?? await registrySbom(image, signal);
  if (!sbom) return { note: "not following the archive: it has no SBOM beside it or in the registry (built before images recorded their packages; a rebuild records them)" };
  return { reason: await archiveMoved(sbom, { mirror: image.mirror, allowHosts: image.allowHosts ?? [] }, signal) };
}
