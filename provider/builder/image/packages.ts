// An image's packages on record: its SBOM (model/sbom.ts) written beside
// it from what its own dpkg database and apt sources said at the end of its
// build (sh/installed-packages.sh), and read back.
import * as fs from "node:fs";
import * as path from "node:path";
import { aptSources, sourceUri } from "../../model/aptsources";
import { guestReportFiles, installedPackages, packagesSummary } from "../../model/dpkgstatus";
import { cycloneDx, type ReadSbom, readSbom, sbomFileName } from "../../model/sbom";
import { writeFileAtomicSync } from "../run/files";
import { PACKAGE_ROOT } from "../run/packageroot";

export interface PackagesRecord {
  count: number;
  /** A digest of the whole set: "sha256:<hex>". */
  digest: string;
  /** The SBOM file beside the image. */
  sbom: string;
}

let ours: { name: string; version: string } | undefined;

/** This package's name and version, read once. */
function tool(): { name: string; version: string } {
  if (!ours) {
    const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as { name: string; version: string };
    ours = { name: pkg.name, version: pkg.version };
  }
  return ours;
}

/** The packages and sources of a guest's report (sh/installed-packages.sh); undefined without a dpkg database. */
export function reportContents(report: string | undefined): Pick<ReadSbom, "packages" | "sources"> | undefined {
  const files = report === undefined ? [] : guestReportFiles(report);
  const status = files.find((f) => f.path === "/var/lib/dpkg/status");
  if (!status) return undefined;
  return {
    packages: installedPackages(status.text),
    sources: aptSources(files.filter((f) => f !== status)).map((s) => ({ ...s, uri: sourceUri(s.uri) })),
  };
}

export interface SbomFacts {
  /** The image file. */
  file: string;
  digest: string;
  parent?: string;
  parentDigest?: string;
}

/**
 * Write the image's SBOM beside it from the guest's report; undefined (and
 * no SBOM left beside it) where the image has no dpkg database.
 */
export function writeSbom(image: SbomFacts, report: string | undefined): PackagesRecord | undefined {
  const sbom = sbomFileName(image.file);
  const read = reportContents(report);
  if (!read) {
    fs.rmSync(sbom, { force: true });
    return undefined;
  }
  const { packages, sources } = read;
  const doc = cycloneDx({ name: path.basename(image.file), digest: image.digest, parent: image.parent, parentDigest: image.parentDigest, tool: tool() }, packages, sources);
  writeFileAtomicSync(sbom, `${JSON.stringify(doc, null, 2)}\n`);
  return { ...packagesSummary(packages), sbom };
}

/** writeSbom, where a failure to write is a warning (`warn`) and no record. */
export function recordPackages(image: SbomFacts, report: string | undefined, warn: (message: string) => void): PackagesRecord | undefined {
  try {
    return writeSbom(image, report);
  } catch (err) {
    warn(`warning: the SBOM was not written: ${(err as Error).message}`);
    return undefined;
  }
}

/** The packages on record of an image whose SBOM came with it (pulled): undefined without one that describes it. */
export function packagesRecordOf(file: string, digest: string): PackagesRecord | undefined {
  const sbom = sbomOf(file, digest);
  return sbom && { ...packagesSummary(sbom.packages), sbom: sbomFileName(file) };
}

/** The SBOM beside an image, if there is one that describes this very file (`digest`; unset: whichever file it is). */
export function sbomOf(file: string, digest: string | undefined): ReadSbom | undefined {
  let text: string;
  try {
    text = fs.readFileSync(sbomFileName(file), "utf8");
  } catch {
    return undefined;
  }
  try {
    const sbom = readSbom(text);
    return digest === undefined || sbom.digest === digest ? sbom : undefined;
  } catch {
    return undefined;
  }
}
