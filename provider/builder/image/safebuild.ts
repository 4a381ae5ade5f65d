// Building one image safely: into a temp file next to the image, flushed to
// the disk and renamed into place only on success (for a bootable image,
// once it has passed its boot check). A failed build leaves the previous image as it
// was and keeps the partial one at `<name>.failed`; an interrupted one leaves
// nothing. Temp files are named after the building process, so a later build
// removes those of a process that died, and the socket directories of
// libguestfs tools killed with a build (guestfstemp.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import type { ImageConfig } from "../../model/config";
import { type FileIdentity, identityOf, sameIdentity } from "../../model/identity";
import { imageFormat, isBootable } from "../../model/image";
import type { Backend, BackendBuild } from "../backends/backend";
import { bootCheckStep } from "../boot/check";
import { contentDigest } from "./digest";
import { overlayStep } from "./layers";
import { type Layering, layeredAsOverlay } from "../../model/layers";
import { guestfsToolEnv, removeOrphanSocketDirs } from "../backends/guestfstemp";
import { type Echo, fileLogger, type Logger } from "../run/log";
import { InterruptedError, runSteps, type Step, type StepTiming } from "../run/steps";
import type { BuildProgress } from "../run/progress";
import { alive } from "../run/proc";
import type { NetworkMode } from "../../model/nethost";
import { renameDurably } from "../run/files";
import { type BoundSettings, BuildBounds } from "../sandbox/bounds";
import { DEFAULT_SIZE } from "../../model/image";
import { DEFAULT_ARCH } from "../../model/arch";
import { rootSizeBytes } from "../../model/sizes";
import { type PackagesRecord, recordPackages } from "./packages";
import { sbomFileName } from "../../model/sbom";

export interface ImageBuildRequest {
  dir: string;
  image: ImageConfig;
  parentPath?: string;
  /** The Debian architecture (vm-images:arch); unset: amd64. */
  arch?: string;
  suite: string;
  mirror?: string;
  /** The mirror is a snapshot of the archive (vm-images:snapshot). */
  snapshot?: boolean;
  /** The sandbox's network policy (direct backend); unset: `public`, nothing more allowed. */
  network?: NetworkMode;
  allowHosts?: readonly string[];
  baseDir: string;
  /** Directories besides baseDir that local paths of actions may lead to (the hostPaths setting); unset: none. */
  hostPaths?: readonly string[];
  mergeSteps: boolean;
  backend: Backend;
  guestfsEnv: Record<string, string>;
  cacheDir: string;
  signal: AbortSignal;
  /** Where log lines go besides the log file and the progress (the provider's stderr in verbose mode). */
  echo?: Echo;
  /** The user's view of the build (the image's row). */
  progress?: BuildProgress;
  /** Boot a bootable image before keeping it (see bootcheck.ts); unset: no boot check. */
  bootCheck?: { accel: "kvm" | "tcg"; timeoutMs: number };
  /**
   * Called once the image is built, before it replaces the previous one; a
   * signal aborted by then makes the build an interrupted one (nothing kept).
   */
  beforeCommit?: () => Promise<void>;
  /** The bounds of the build's sandbox runs (the direct backend's); unset ones take their defaults. */
  bounds?: BoundSettings;
  /** How a qcow2 derived image is stored (model/layers.ts); unset: flat. */
  layering?: Layering;
  /** The parent's content digest, when known ("sha256:<hex>"); an overlay's parent without one is hashed. */
  parentDigest?: string;
}

export interface BuiltImage {
  path: string;
  format: "raw" | "qcow2";
  identity: FileIdentity;
  /** The file's content digest, "sha256:<hex>" (digest.ts). */
  digest: string;
  sizeBytes: number;
  /** Bytes the file takes on disk (raw images are sparse). */
  allocatedBytes: number;
  /** For an overlay, the bytes the same image took on disk as a standalone file. */
  flatBytes?: number;
  /** Seconds the whole build took. */
  seconds: number;
  logFile: string;
  timings: StepTiming[];
  /** Its packages on record (an SBOM beside it), where it has a dpkg database; and what that was made from, for the image cache. */
  packages?: PackagesRecord;
  packagesReport?: string;
}

/** How long a failed build waits for an interrupt that may be on its way before calling it a failure. */
const INTERRUPT_GRACE_MS = 500;

const TEMP_TAG = /\.(building|work|log|overlay|overlaybase)-(\d+)$/;

export function imagePaths(dir: string, name: string, pid = process.pid) {
  return {
    final: path.join(dir, name),
    temp: path.join(dir, `.${name}.building-${pid}`),
    work: path.join(dir, `.${name}.work-${pid}`),
    failed: path.join(dir, `${name}.failed`),
    log: path.join(dir, `${name}.log`),
    /** The log while the build runs: it becomes `log` when the build ends, and goes if it is interrupted. */
    logTemp: path.join(dir, `.${name}.log-${pid}`),
  };
}

/** Remove temp files of this image left by build processes that no longer run. */
export function sweepStaleTemps(dir: string, name: string, log?: Logger): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const m = TEMP_TAG.exec(entry);
    if (!m || !entry.startsWith(`.${name}.`) || entry !== `.${name}.${m[1]}-${m[2]}`) continue;
    if (Number(m[2]) === process.pid || alive(Number(m[2]))) continue;
    fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
    log?.line(name, `removed ${entry}, left by an interrupted build`);
  }
}

/** Remove the socket directories of killed libguestfs tools (this build's, or a killed build's before it). */
function sweepGuestfsSockets(log: Logger, name: string): void {
  for (const dir of removeOrphanSocketDirs()) log.line(name, `removed ${dir}, left by a killed libguestfs tool`);
}

export async function buildImage(req: ImageBuildRequest): Promise<BuiltImage> {
  const name = req.image.name;
  const p = imagePaths(req.dir, name);
  fs.mkdirSync(req.dir, { recursive: true });
  const log = fileLogger(p.log, (line, text) => {
    req.progress?.toolLine(text);
    req.echo?.(line, text);
  }, { writeTo: p.logTemp });
  const network = { mode: req.network ?? "public", allowHosts: req.allowHosts ?? [], mirror: req.mirror } as const;
  // A root image's runs see its tree, not its disk: the disk's size bounds their files.
  const bounds = new BuildBounds(name, req.bounds ?? {}, log, req.parentPath ? undefined : rootSizeBytes(req.image.size ?? DEFAULT_SIZE));
  const ctx = { image: name, log, signal: req.signal, progress: req.progress, network, bounds };
  const started = Date.now();
  let interrupted = false;
  const pins: (() => void)[] = [];
  try {
    sweepStaleTemps(req.dir, name, log);
    sweepGuestfsSockets(log, name);
    if (req.parentPath && !fs.existsSync(req.parentPath)) {
      throw new Error(
        `image ${JSON.stringify(name)}: parent image ${req.parentPath} does not exist; ` +
          "build it first or put the file in the images directory",
      );
    }
    fs.rmSync(p.temp, { force: true });
    fs.mkdirSync(p.work, { recursive: true });
    const build: BackendBuild = {
      image: req.image,
      format: imageFormat(name),
      target: p.temp,
      workDir: p.work,
      parentPath: req.parentPath,
      arch: req.arch ?? DEFAULT_ARCH,
      suite: req.suite,
      mirror: req.mirror,
      snapshot: req.snapshot,
      baseDir: req.baseDir,
      hostPaths: req.hostPaths ?? [],
      mergeSteps: req.mergeSteps,
      guestfsEnv: guestfsToolEnv(req.guestfsEnv, p.work),
      cacheDir: req.cacheDir,
      facts: {},
    };
    log.line(name, `building with the ${req.backend.name} backend into ${p.final}`);
    let timings: StepTiming[];
    let digest = "";
    let flatBytes: number | undefined;
    try {
      const steps = req.backend.steps(build);
      if (layeredAsOverlay(req.image, req.layering)) {
        steps.push(overlayStep({ dir: req.dir, parentName: req.image.parent!, parentPath: req.parentPath!, parentDigest: req.parentDigest, target: p.temp, flat: (n) => void (flatBytes = n) }, pins));
      }
      if (req.bootCheck && isBootable(req.image)) steps.push(bootCheckStep(p.temp, build.format, { ...req.bootCheck, arch: build.arch }, () => build.facts.sshd === true));
      // Last, the file final (the boot check boots a snapshot and never writes to it), and before it is
      // named: an interrupt while it is hashed is an interrupted build.
      steps.push({ name: "digest", do: async (c) => void (digest = await contentDigest(p.temp, c.signal, name)) });
      timings = await runSteps(steps, ctx);
      await req.beforeCommit?.();
      if (req.signal.aborted) throw new InterruptedError(name);
    } catch (err) {
      // Ctrl-C reaches the tools (they share the terminal's process group) as
      // well as this process: a tool may die of it before our own handler
      // has aborted the build. Let a pending interrupt arrive first.
      if (!req.signal.aborted) await new Promise((r) => setTimeout(r, INTERRUPT_GRACE_MS));
      if (err instanceof InterruptedError || req.signal.aborted) {
        interrupted = true;
        fs.rmSync(p.temp, { force: true });
        throw err instanceof InterruptedError ? err : new InterruptedError(name);
      }
      let kept = "";
      if (fs.existsSync(p.temp)) {
        fs.renameSync(p.temp, p.failed);
        kept = `; the partial image is kept at ${p.failed}`;
      }
      const prev = fs.existsSync(p.final) ? `; the previous image ${p.final} is unchanged` : "";
      const msg = err instanceof Error ? err.message : String(err);
      log.line(name, `build failed: ${msg}`);
      const logRef = msg.includes(p.log) ? "" : `\n  log: ${p.log}`;
      throw new Error(`image ${JSON.stringify(name)}: build failed: ${msg}${kept}${prev}${logRef}`);
    }
    // On the disk before the image is named, and named before the state
    // records it (the provider's create returns after this).
    renameDurably(p.temp, p.final);
    fs.rmSync(p.failed, { force: true });
    const identity = identityOf(p.final)!;
    const seconds = (Date.now() - started) / 1000;
    const allocatedBytes = fs.statSync(p.final).blocks * 512;
    const report = build.facts.packagesReport;
    // The image is built and in place: a record that cannot be written is a warning, not a failed build.
    const packages = recordPackages({ file: p.final, digest, parent: req.image.parent, parentDigest: req.parentDigest }, report, (w) => log.line(name, w));
    log.line(name, `built ${p.final} (${identity.size} bytes, ${digest}) in ${seconds.toFixed(1)} s` +
      (packages ? `; ${packages.count} packages on record in ${sbomFileName(name)}` : ""));
    return { path: p.final, format: build.format, identity, digest, sizeBytes: identity.size, allocatedBytes, flatBytes, seconds, logFile: p.log, timings, packages, packagesReport: report };
  } finally {
    for (const unpin of pins) unpin();
    await bounds.close();
    fs.rmSync(p.work, { recursive: true, force: true });
    sweepGuestfsSockets(log, name);
    fs.rmSync(p.temp, { force: true });
    await log.close();
    // An interrupted build leaves the previous image's log as it was.
    if (interrupted) fs.rmSync(p.logTemp, { force: true });
    else fs.renameSync(p.logTemp, p.log);
  }
}

/** Remove the image only if it is still the file that build produced. Returns whether it did. */
export function removeImageIfOurs(file: string, identity: FileIdentity | undefined): boolean {
  if (!sameIdentity(identityOf(file), identity)) return false;
  fs.rmSync(file, { force: true });
  fs.rmSync(sbomFileName(file), { force: true });
  return true;
}
