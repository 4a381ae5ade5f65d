// An Image's outputs: its inputs as checked, and what became of them, a
// file built, taken from the image cache or pulled, or an artifact in the
// registry that this machine keeps no copy of. Assembled here only.
import * as fs from "node:fs";
import type { CheckedImageInputs } from "../../model/check";
import type { FileIdentity } from "../../model/identity";
import { imageFormat } from "../../model/image";
import { archOf } from "../../model/arch";
import { virtualBytesOf } from "./layers";

export interface ImageOutputs extends CheckedImageInputs {
  /** The Debian architecture of the image (vm-images:arch), amd64 where none was set. */
  arch: string;
  path: string;
  format: "raw" | "qcow2";
  /** Unset for an image in the registry that this machine keeps no copy of. */
  sizeBytes?: number;
  /** Bytes the file takes on disk. */
  allocatedBytes?: number;
  /** The disk's size as the guest sees it (a qcow2's virtual size). */
  virtualBytes?: number;
  /** For an overlay built here: the bytes the same image took on disk as a standalone file. */
  flatBytes?: number;
  identity?: FileIdentity;
  /**
   * What its dpkg database says is installed: how many packages, and a
   * digest of the set (its SBOM beside it, `sbom`, lists them). Not
   * `packages`: that input names the packages asked for.
   */
  installedPackages?: { count: number; digest: string };
  /** The image's SBOM (CycloneDX JSON) beside it. */
  sbom?: string;
  /** The file's content digest, "sha256:<hex>"; for an artifact without a local copy, the one it was published with (if it was). */
  digest?: string;
  logFile: string;
  accel: string;
  stepSeconds: Record<string, number>;
  /** When the build (or pull) that made the file finished (ISO 8601), and how long it took. */
  builtAt: string;
  buildSeconds: number;
  /** "built", "image cache" (the local cache had the build key), or "pulled REPOSITORY@DIGEST" when the registry had the build key ("registry REPOSITORY@DIGEST" with localCopies false: nothing downloaded). */
  source: string;
  /** REPOSITORY@DIGEST where the image is published, if it is. */
  published?: string;
  /** The human tag it was published with. */
  publishedTag?: string;
  /** Why the last publish failed (the next `up` retries it). */
  publishError?: string;
}

/** What became of an image's inputs. */
export interface Outcome {
  /** The image file; for an artifact without a local copy, where it would be. */
  path: string;
  /** The file as it is now; unset when there is no local copy. */
  identity?: FileIdentity;
  /** The file's content digest (digest.ts), hashed once the file is final. */
  digest?: string;
  /** For an overlay built here, what its flat file took on disk. */
  flatBytes?: number;
  /** Its packages on record, where it has a dpkg database. */
  packages?: { count: number; digest: string; sbom: string };
  logFile: string;
  /** libguestfs's acceleration, for a build ("none" otherwise). */
  accel?: string;
  stepSeconds: Record<string, number>;
  seconds: number;
  source: string;
  published?: string;
}

export const round1 = (n: number) => Math.round(n * 10) / 10;

export function imageOutputs(inputs: CheckedImageInputs, o: Outcome): ImageOutputs {
  return {
    ...inputs,
    arch: archOf(inputs),
    path: o.path,
    format: imageFormat(inputs.name),
    sizeBytes: o.identity?.size,
    allocatedBytes: o.identity ? fs.statSync(o.path).blocks * 512 : undefined,
    virtualBytes: o.identity ? virtualBytesOf(o.path) : undefined,
    flatBytes: o.flatBytes,
    identity: o.identity,
    installedPackages: o.packages ? { count: o.packages.count, digest: o.packages.digest } : undefined,
    sbom: o.packages?.sbom,
    digest: o.digest,
    logFile: o.logFile,
    accel: o.accel ?? "none",
    stepSeconds: o.stepSeconds,
    builtAt: new Date().toISOString(),
    buildSeconds: round1(o.seconds),
    source: o.source,
    published: o.published,
    publishedTag: undefined,
    publishError: undefined,
  };
}
