// What a reference names in the registry, read exactly: its digest, then
// the manifest of that digest (so a tag that moves meanwhile cannot mix
// two), its bytes checked against the digest (a descriptor made of them is
// right); the platform of a plain manifest, from our annotation, else from
// its config (none is amd64); and a pull's reference resolved for a
// platform (model/platforms.ts decides): an index's entry for it, or a
// plain manifest of it, else an error naming what it is.
import * as crypto from "node:crypto";
import { DIGEST_PATTERN, parseRef } from "../../model/oci";
import {
  annotatedPlatform, configPlatform, type ParsedManifest, parseManifest, type Platform, platformMismatch, selectEntry,
} from "../../model/platforms";
import { crane, type CraneOptions } from "./crane";

export interface ManifestRead {
  /** repository@digest. */
  pinned: string;
  digest: string;
  /** Its exact bytes, as text, and their length. */
  text: string;
  size: number;
  parsed: ParsedManifest;
}

const LOOKUP_MS = 2 * 60_000;

/** The digest `ref` names (an index's own, not an entry's). Rejects with a RegistryError (`notFound` for a missing tag). */
export async function digestOf(ref: string, o: CraneOptions): Promise<string> {
  const out = await crane(`looking up ${ref}`, parseRef(ref).host, ["digest", ref], { timeoutMs: LOOKUP_MS, ...o });
  const digest = out.trim().split("\n").pop() ?? "";
  if (!DIGEST_PATTERN.test(digest)) throw new Error(`registry ${parseRef(ref).host}: ${ref} gave no digest (${JSON.stringify(digest.slice(0, 80))})`);
  return digest;
}

/** The manifest `ref` names now, read by its digest. */
export async function readManifest(ref: string, o: CraneOptions): Promise<ManifestRead> {
  const { host, repository } = parseRef(ref);
  const digest = parseRef(ref).digest ?? await digestOf(ref, o);
  const pinned = `${repository}@${digest}`;
  const out = await crane(`reading ${pinned}`, host, ["manifest", pinned], { timeoutMs: LOOKUP_MS, ...o });
  // crane prints the manifest as the registry holds it; its last newline, if it has one, is not in what we read.
  const text = [out, `${out}\n`].find((t) => `sha256:${crypto.createHash("sha256").update(t).digest("hex")}` === digest);
  if (text === undefined) throw new Error(`registry ${host}: the manifest of ${pinned} was not read exactly (its bytes do not have its digest)`);
  let parsed: ParsedManifest;
  try {
    parsed = parseManifest(text);
  } catch (err) {
    throw new Error(`registry ${host}: ${pinned} is not a manifest: ${(err as Error).message}`);
  }
  return { pinned, digest, text, size: Buffer.byteLength(text), parsed };
}

/** The platform of a plain manifest: our annotation, else its config's fields (none is amd64). */
export async function platformOf(m: ManifestRead, o: CraneOptions): Promise<Platform> {
  const annotated = annotatedPlatform(m.text);
  if (annotated) return annotated;
  const config = await crane(`reading the config of ${m.pinned}`, parseRef(m.pinned).host, ["config", m.pinned], { timeoutMs: LOOKUP_MS, ...o });
  return configPlatform(config);
}

/**
 * The digest of the manifest a pull of `ref` for `platform` takes: an
 * index's entry for it, or `ref`'s own when it is a plain manifest of that
 * platform. Rejects naming the reference, the platform asked and what it has.
 */
export async function resolveForPlatform(ref: string, platform: Platform, o: CraneOptions): Promise<string> {
  const m = await readManifest(ref, o);
  if (m.parsed.kind === "index") return selectEntry(ref, m.parsed.manifests, platform).digest;
  const mismatch = platformMismatch(ref, await platformOf(m, o), platform);
  if (mismatch) throw new Error(mismatch);
  return m.digest;
}
