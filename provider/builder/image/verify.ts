// Verifying a published image by rebuilding it: the artifact its build key's
// tag points to (this machine's unchanged copy of it, or pulled), and the
// same image built again from the same inputs into a directory of its own,
// with no image cache, no packages stage and no registry lookup; a derived
// image is built from its parent's published bytes, so one image is
// verified at a time. Same sha256, reproduced; else the files that differ
// (diffoscope's report where it is installed, else the two file systems
// listed through libguestfs).
import * as fs from "node:fs";
import * as path from "node:path";
import type { CheckedImageInputs } from "../../model/check";
import { imageConfigOf } from "../../model/check";
import { diffListings, formatDifferences, summarize } from "../../model/filediff";
import { imageFormat } from "../../model/image";
import type { NetworkMode } from "../../model/nethost";
import type { Layering } from "../../model/layers";
import { ANNOTATION_PREFIX, parseRef, TAG } from "../../model/oci";
import { crane, RegistryError, type RegistrySession } from "../oci/crane";
import { isLocalCopy } from "../oci/localcopy";
import { pullImages, resolveDigest } from "../oci/pull";
import { DEFAULT_ARCH, platformText } from "../../model/arch";
import { onPath } from "../run/host";
import type { Logger } from "../run/log";
import { BACKENDS } from "./create";
import { contentDigest } from "./digest";
import { diffoscope, listImageFiles } from "./filelist";
import { buildImage } from "./safebuild";

export interface VerifyRequest {
  /** The image's checked inputs (its build key among them), as a stack would give them. */
  inputs: CheckedImageInputs;
  /** The repository the images are published to, tagged by build key. */
  registry: string;
  insecure?: boolean;
  /** The images directory: an unchanged local copy of the artifact there is used instead of a pull. */
  localDir: string;
  /** A fresh directory of this verification's own, removed by the caller. */
  work: string;
  session: RegistrySession;
  signal: AbortSignal;
  /** What the verification does (a line each: the artifact, the rebuild). */
  log: Logger;
  /** Every line of the tools it runs (crane, the rebuild's, guestfish, diffoscope). */
  tools: Logger;
  /** libguestfs's environment (boot/accel.ts). */
  guestfsEnv: Record<string, string>;
  cacheDir: string;
  /** How many differing files to name. */
  maxDifferences: number;
  /** The Debian architecture of the images (vm-images:arch): their artifacts are pulled for its platform. @default "amd64" */
  arch?: string;
}

/** What finding a published artifact takes: a verification's request but the image's inputs. */
export type RegistryRequest = Omit<VerifyRequest, "inputs">;

export interface VerifyResult {
  name: string;
  /** repository@digest of the artifact verified. */
  published: string;
  /** sha256:<hex> of the published image file and of the rebuild. */
  publishedDigest: string;
  rebuiltDigest: string;
  reproduced: boolean;
  /** Lines that say what differs (the first differing files, or diffoscope's report). */
  differences: string[];
}

/** repository@digest of the artifact tagged `buildKey`; an error that says so when there is none. */
async function taggedArtifact(req: RegistryRequest, name: string, buildKey: string): Promise<string> {
  const common = { log: req.tools, label: `${name} verify`, signal: req.signal, session: req.session, insecure: req.insecure };
  try {
    return `${req.registry}@${await resolveDigest({ ref: `${req.registry}:${buildKey}`, ...common }, { manifestOnly: true })}`;
  } catch (err) {
    if (err instanceof RegistryError && err.notFound) {
      throw new Error(
        `${name}: ${req.registry} holds no image tagged ${buildKey}, the build key of ${name} from these inputs: ` +
          "it was not published, or published from other inputs (images file, files of its actions, suite, mirror, backend)",
      );
    }
    throw err;
  }
}

/** The image file of the artifact tagged `buildKey`: the local copy when unchanged, else pulled into `into`. */
async function publishedFile(req: RegistryRequest, name: string, buildKey: string, into: string): Promise<{ file: string; published: string }> {
  const platform = platformText(req.arch ?? DEFAULT_ARCH);
  const common = { log: req.tools, label: `${name} verify`, signal: req.signal, session: req.session, insecure: req.insecure, platform };
  const published = await taggedArtifact(req, name, buildKey);
  const local = path.join(req.localDir, name);
  if (isLocalCopy(local, published)) {
    req.log.line(`${name} verify`, `published ${published}: using the local copy ${local}`);
    return { file: local, published };
  }
  req.log.line(`${name} verify`, `published ${published}: pulling it`);
  const pulled = await pullImages({ ref: published, dir: into, expect: [name], ...common });
  return { file: pulled.files[0].path, published };
}

/** The content digest the artifact's manifest states, if it states one. */
async function statedDigest(req: RegistryRequest, published: string, name: string): Promise<string | undefined> {
  const out = await crane(`reading the manifest of ${published}`, parseRef(published).host, ["manifest", published], {
    log: req.tools, label: `${name} verify`, signal: req.signal, session: req.session, insecure: req.insecure,
  });
  const manifest = JSON.parse(out) as { annotations?: Record<string, string> };
  return manifest.annotations?.[`${ANNOTATION_PREFIX}.content-digest`];
}

/**
 * The content digest of the artifact tagged `buildKey`, which its children's
 * build keys take: as its manifest states it, else its image file's (the
 * local copy, or pulled into the work directory).
 */
export async function publishedDigest(req: RegistryRequest, name: string, buildKey: string): Promise<string> {
  const published = await taggedArtifact(req, name, buildKey);
  const stated = await statedDigest(req, published, name);
  if (stated !== undefined) return stated;
  return contentDigest((await publishedFile(req, name, buildKey, path.join(req.work, "digest-of", name))).file, req.signal, name);
}

/** Rebuild one published image and compare. Throws when it cannot (no such image, a failed build). */
export async function verifyImage(req: VerifyRequest): Promise<VerifyResult> {
  const { inputs } = req;
  const name = inputs.name;
  const label = `${name} verify`;
  const published = await publishedFile(req, name, inputs.buildKey, path.join(req.work, "published"));
  const publishedDigest = await contentDigest(published.file, req.signal, name);
  const stated = await statedDigest(req, published.published, name);
  if (stated !== undefined && stated !== publishedDigest) {
    throw new Error(`${name}: ${published.published} states the content digest ${stated}, but its image file is ${publishedDigest}`);
  }

  let parentPath = inputs.parentPath;
  if (inputs.parent !== undefined && TAG.test(inputs.parentBuildKey ?? "")) {
    // Our own parent: the bytes published under its build key, beside the rebuild (an overlay's layer is made from it there).
    parentPath = (await publishedFile(req, inputs.parent, inputs.parentBuildKey!, path.join(req.work, "rebuilt"))).file;
  }
  if (parentPath !== undefined && !fs.existsSync(parentPath)) throw new Error(`${name}: its parent image ${parentPath} does not exist`);

  req.log.line(label, `rebuilding ${name} (build key ${inputs.buildKey}) with the ${inputs.backend} backend`);
  const built = await buildImage({
    dir: path.join(req.work, "rebuilt"), image: imageConfigOf(inputs), parentPath, arch: inputs.arch, suite: inputs.suite, mirror: inputs.mirror,
    network: inputs.network as NetworkMode | undefined, allowHosts: inputs.allowHosts, baseDir: inputs.baseDir, hostPaths: inputs.hostPaths,
    mergeSteps: inputs.mergeSteps, backend: BACKENDS[inputs.backend], guestfsEnv: req.guestfsEnv, cacheDir: req.cacheDir, signal: req.signal,
    echo: (_line, text) => req.tools.line(label, text), layering: inputs.layering as Layering | undefined, parentDigest: inputs.parentDigest,
    bounds: { buildMemory: inputs.buildMemory, buildTasks: inputs.buildTasks, buildCpus: inputs.buildCpus, buildTimeout: inputs.buildTimeout, buildFileSize: inputs.buildFileSize },
  });
  // The build hashed its file as its last step.
  const rebuiltDigest = built.digest;
  const result = { name, published: published.published, publishedDigest, rebuiltDigest };
  if (rebuiltDigest === publishedDigest) return { ...result, reproduced: true, differences: [] };
  return { ...result, reproduced: false, differences: await differences(req, published.file, built.path) };
}

/** What differs between the two image files, as lines. */
async function differences(req: VerifyRequest, published: string, rebuilt: string): Promise<string[]> {
  const name = req.inputs.name;
  const o = { env: req.guestfsEnv, log: req.tools, label: `${name} compare`, signal: req.signal };
  req.log.line(`${name} verify`, `not reproduced: comparing the files of both images`);
  if (onPath("diffoscope")) {
    const report = path.join(req.work, "diffoscope.txt");
    if (!(await diffoscope(published, rebuilt, report, o))) return ["diffoscope finds no difference"];
    const lines = fs.readFileSync(report, "utf8").split("\n");
    const shown = lines.slice(0, 20 * req.maxDifferences);
    return ["diffoscope (published, rebuilt):", ...shown, ...(lines.length > shown.length ? [`... ${lines.length - shown.length} more lines`] : [])];
  }
  const format = imageFormat(name);
  const a = await listImageFiles({ ...o, file: published, format });
  const b = await listImageFiles({ ...o, file: rebuilt, format });
  const diffs = diffListings(a, b);
  if (diffs.length === 0) {
    return [
      `the file systems hold the same ${a.size} files (type, mode, owner, size, content, time): ` +
        "the images differ in what is not a file (the file system's metadata and block layout, the partition table, free space)",
    ];
  }
  const all = new Set([...a.keys(), ...b.keys()]).size;
  return [`${diffs.length} of ${all} files differ (published -> rebuilt): ${summarize(diffs)}`, ...formatDifferences(diffs, req.maxDifferences)];
}
