// Publishing a built image in lvh-images' layout, without a daemon: the
// image zstd-compressed as data/images/<name>.zst in one reproducible layer
// (fixed owner, time and order), a config with a platform and a command (so
// `docker create`, which `lvh images pull` uses, accepts it), annotations
// that say what it is, and tags: its build key, its content digest
// (`content-sha256-<hex>`, by which an overlay's parent is found) and,
// optionally, a human tag, which the image's other architectures may share
// (platformtag.ts: then it is an index of them). The config's platform and
// an annotation say its architecture. An overlay is published as it is, its delta only;
// its annotations name its parent (chain.ts). An image's SBOM, where it has
// one, is a second layer of its own (data/sbom/<name>.cdx.json), which an
// annotation names, so that `crane blob` fetches it without the image.
// The tags appear only once the image is complete: it is pushed under a
// staging tag first, which is deleted after.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { contentTag, humanTag, parseRef, publishAnnotations, type PublishedImageFacts, sbomEntry } from "../../model/oci";
import { crane, type RegistrySession } from "./crane";
import { MINUTE, run } from "../run/exec";
import type { Logger } from "../run/log";
import { DEFAULT_ARCH, platformText } from "../../model/arch";
import { tagForPlatform } from "./platformtag";

export interface PublishRequest {
  file: string;
  /** Its SBOM file, published as a layer of its own. */
  sbom?: string;
  /** The repository, such as 127.0.0.1:5000/team/images. */
  repository: string;
  facts: PublishedImageFacts;
  tag?: string;
  insecure?: boolean;
  log: Logger;
  label: string;
  signal?: AbortSignal;
  session: RegistrySession;
}

/** Publish one image; resolves with `repository@digest`, rejects naming the registry and the cause. */
export async function publishImage(req: PublishRequest): Promise<string> {
  const { host } = parseRef(req.repository);
  const name = req.facts.name;
  const work = fs.mkdtempSync(path.join(path.dirname(req.file), `.${name}.publish-`));
  const opts = { log: req.log, label: req.label, signal: req.signal, session: req.session, insecure: req.insecure };
  const digestOf = (out: string) => out.trim().split("\n").pop()!.replace(/^.*@/, "");
  try {
    const images = path.join(work, "root", "data", "images");
    fs.mkdirSync(images, { recursive: true });
    const exec = { label: req.label, log: req.log, signal: req.signal, timeoutMs: 60 * MINUTE };
    // The same bytes give the same layer: zstd's multi-threaded output does not depend on the number of
    // threads, and the level is given so that ZSTD_CLEVEL in the environment cannot change it.
    await run("zstd", ["-q", "-3", "-T0", "-f", "-o", path.join(images, `${name}.zst`), req.file], exec);
    fs.chmodSync(path.join(work, "root", "data"), 0o755);
    fs.chmodSync(images, 0o755);
    fs.chmodSync(path.join(images, `${name}.zst`), 0o644);
    const layer = path.join(work, "layer.tar");
    const tar = (root: string, out: string) =>
      run("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "--format=gnu", "-C", root, "-cf", out, "data"], exec);
    await tar(path.join(work, "root"), layer);
    const sbomLayer = req.sbom ? path.join(work, "sbom.tar") : undefined;
    if (req.sbom && sbomLayer) {
      const sbomRoot = path.join(work, "sbom");
      const entry = path.join(sbomRoot, sbomEntry(name));
      fs.mkdirSync(path.dirname(entry), { recursive: true, mode: 0o755 });
      fs.chmodSync(path.join(sbomRoot, "data"), 0o755);
      fs.chmodSync(path.dirname(entry), 0o755);
      fs.copyFileSync(req.sbom, entry);
      fs.chmodSync(entry, 0o644);
      await tar(sbomRoot, sbomLayer);
    }

    const staging = `${req.repository}:vm-images-staging-${crypto.randomBytes(8).toString("hex")}`;
    const what = `publishing ${name} to ${req.repository}`;
    const layers = [layer, ...(sbomLayer ? [sbomLayer] : [])].flatMap((l) => ["-f", l]);
    const staged = digestOf(await crane(what, host, ["append", "--oci-empty-base", ...layers, "-t", staging], opts));
    const facts = { ...req.facts, sbomLayer: sbomLayer ? lastLayer(await crane(what, host, ["manifest", `${req.repository}@${staged}`], opts)) : undefined };
    const annotations = Object.entries(publishAnnotations(facts)).flatMap(([k, v]) => ["-a", `${k}=${v}`]);
    const final = digestOf(await crane(what, host, [
      "mutate", `${req.repository}@${staged}`, "--set-platform", platformText(req.facts.arch ?? DEFAULT_ARCH), "--cmd", "/bin/true", ...annotations,
    ], opts));
    await crane(what, host, ["tag", `${req.repository}@${final}`, req.facts.buildKey], opts);
    if (req.facts.digest) await crane(what, host, ["tag", `${req.repository}@${final}`, contentTag(req.facts.digest)], opts);
    if (req.tag) await tagForPlatform(`${req.repository}@${final}`, humanTag(req.tag, name), req.facts.arch ?? DEFAULT_ARCH, opts);
    try {
      await crane(what, host, ["delete", `${req.repository}@${staged}`], opts);
    } catch (err) {
      req.log.line(req.label, `warning: could not delete the staging manifest ${staged}: ${(err as Error).message}`);
    }
    const ref = `${req.repository}@${final}`;
    req.log.line(req.label, `published ${ref} (tag ${req.facts.buildKey}${req.tag ? `, ${humanTag(req.tag, name)}` : ""})`);
    return ref;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The digest of a manifest's last layer. */
function lastLayer(manifest: string): string {
  const layers = (JSON.parse(manifest) as { layers?: { digest?: string }[] }).layers ?? [];
  const digest = layers[layers.length - 1]?.digest;
  if (!digest) throw new Error("the staged manifest lists no layer");
  return digest;
}

/** Add the human tag of `name` to an image of `arch` published already (`repository@digest`), beside its other architectures'. */
export async function tagPublished(
  published: string, name: string, tag: string, arch: string,
  o: { log: Logger; label: string; signal?: AbortSignal; session: RegistrySession; insecure?: boolean },
): Promise<void> {
  const holds = await tagForPlatform(published, humanTag(tag, name), arch, o);
  o.log.line(o.label, `tagged ${published} ${humanTag(tag, name)} (it holds ${holds})`);
}
