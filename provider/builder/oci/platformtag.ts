// A human tag shared by the architectures of an image: two stacks that
// build the same images file for amd64 and arm64, with the same registry
// and `vm-images:tag`, publish under one tag, and the second must not take
// the first's place. The tag is read (a plain manifest and its platform, or
// an index), model/platforms.ts decides what it is to hold (the manifest
// itself while it has one platform, else an OCI image index with one entry
// per platform, only this one's replaced), and it is written: `crane tag`
// for a manifest, `crane edit manifest` with the index's exact bytes (the
// registry checks that every manifest it lists is in the repository).
//
// Two publishes of the same tag at once read, modify and write it: the
// registry has no compare-and-swap for tags, so each re-reads the tag just
// before it writes (and starts again if it moved) and reads it after (and
// starts again if its own entry is not there: another's write took its
// place). What remains is a write of the other's that lands between this
// one's last check and its write and after the other's own check: then the
// entry written first is lost until its stack publishes again (a new
// `vm-images:tag`, or its image rebuilt). Pulls by build key never read
// this tag.
import { ociPlatform } from "../../model/arch";
import { parseRef } from "../../model/oci";
import {
  type Descriptor, INDEX_MEDIA_TYPE, listedPlatforms, nextTag, type Platform, platformString, tagHolds, type TagState,
} from "../../model/platforms";
import { crane, type CraneOptions, RegistryError } from "./crane";
import { digestOf, platformOf, readManifest } from "./manifests";

/** How many times a publish reads, modifies and writes a tag that others write too. */
const ATTEMPTS = 3;

/** What a tag holds now, and its digest (undefined when it is absent). */
async function readTag(target: string, o: CraneOptions): Promise<{ digest?: string; state: TagState }> {
  let m;
  try {
    m = await readManifest(target, o);
  } catch (err) {
    if (err instanceof RegistryError && err.notFound) return { state: { kind: "absent" } };
    throw err;
  }
  if (m.parsed.kind === "index") return { digest: m.digest, state: { kind: "index", digest: m.digest, manifests: m.parsed.manifests } };
  const descriptor = { mediaType: m.parsed.mediaType, digest: m.digest, size: m.size };
  return { digest: m.digest, state: { kind: "manifest", descriptor, platform: await platformOf(m, o) } };
}

/** The tag's digest now; undefined when it is absent. */
async function currentDigest(target: string, o: CraneOptions): Promise<string | undefined> {
  try {
    return await digestOf(target, o);
  } catch (err) {
    if (err instanceof RegistryError && err.notFound) return undefined;
    throw err;
  }
}

/** What the tag holds, in a line: its platforms. */
function described(state: TagState): string {
  if (state.kind === "absent") return "nothing";
  if (state.kind === "manifest") return `the manifest ${state.descriptor.digest} (${platformString(state.platform)})`;
  return `an index of ${listedPlatforms(state.manifests).join(", ")}`;
}

/**
 * Point `tag` (in the repository of `pinned`, repository@digest of a plain
 * manifest of `arch`) at that manifest for its platform, keeping the
 * entries of other platforms. Resolves with what the tag holds after.
 */
export async function tagForPlatform(pinned: string, tag: string, arch: string, o: CraneOptions): Promise<string> {
  const { host, repository } = parseRef(pinned);
  const target = `${repository}:${tag}`;
  const op = `tagging ${pinned} ${tag}`;
  const m = await readManifest(pinned, o);
  if (m.parsed.kind !== "manifest") throw new Error(`${pinned} is an index, not the manifest of one image`);
  const platform: Platform = ociPlatform(arch);
  const entry: Descriptor & { platform: Platform } = { mediaType: m.parsed.mediaType, digest: m.digest, size: m.size, platform };
  for (let attempt = 1; ; attempt++) {
    const before = await readTag(target, o);
    const update = nextTag(before.state, entry);
    if (update.kind !== "unchanged") {
      // Moved since it was read: read again rather than write over what another publish just wrote.
      if (attempt < ATTEMPTS && (await currentDigest(target, o)) !== before.digest) continue;
      if (update.kind === "manifest") {
        await crane(op, host, ["tag", pinned, tag], o);
      } else {
        await crane(op, host, ["edit", "manifest", pinned, "-m", INDEX_MEDIA_TYPE, "-t", target], { ...o, input: update.body });
      }
    }
    const after = await readTag(target, o);
    if (tagHolds(after.state, entry)) {
      const holds = described(after.state);
      o.log.line(o.label, `tag ${tag}: ${holds}`);
      return holds;
    }
    if (attempt >= ATTEMPTS) {
      throw new Error(`registry ${host}: ${target} was written by another publish at the same time, ${ATTEMPTS} times: ` +
        `it holds ${described(after.state)}, not ${m.digest} for ${platformString(platform)}; publish again to add it`);
    }
  }
}
