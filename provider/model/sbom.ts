// An image's software bill of materials, in CycloneDX 1.5 JSON: the image
// (its file name and content digest) and one component per installed
// Debian package, identified by its package URL
// (pkg:deb/debian/NAME@VERSION?arch=ARCH), with its source package, and the
// apt sources the image installs from. CycloneDX rather than SPDX: a
// package URL is a component's own field there, not an external reference,
// and a document needs no creation time or namespace URL, so the same
// image always gets the same bytes. Pure: made, and read back.
import { type AptSource, oneLineSources } from "./aptsources";
import { type InstalledPackage, packageId } from "./dpkgstatus";
import { sha256 } from "./hash";

export const SBOM_SUFFIX = ".cdx.json";
export const SBOM_MEDIA_TYPE = "application/vnd.cyclonedx+json";

/** The file beside an image that holds its SBOM. */
export const sbomFileName = (image: string) => `${image}${SBOM_SUFFIX}`;

export interface SbomImage {
  name: string;
  /** "sha256:<hex>". */
  digest: string;
  parent?: string;
  parentDigest?: string;
  tool: { name: string; version: string };
}

const PROP = "vm-images";

/** A package's URL: the version percent-encoded (its epoch's colon kept, as the purl spec allows). */
export function debPurl(p: { name: string; version: string; architecture: string }): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%3A/gi, ":");
  return `pkg:deb/debian/${enc(p.name)}@${enc(p.version)}?arch=${enc(p.architecture)}`;
}

/** A name-based UUID (version 5 layout) from the image's digest: the same image, the same serial number. */
function serialNumber(digest: string): string {
  const h = sha256(`vm-images sbom ${digest}`);
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const line = (s: AptSource) => `deb${s.architectures ? ` [arch=${s.architectures.join(",")}]` : ""} ${s.uri} ${s.suite} ${s.components.join(" ")}`.trimEnd();

export function cycloneDx(image: SbomImage, packages: readonly InstalledPackage[], sources: readonly AptSource[]): object {
  const props = (pairs: [string, string | undefined][]) => pairs.filter(([, v]) => v !== undefined).map(([k, v]) => ({ name: `${PROP}:${k}`, value: v! }));
  return {
    bomFormat: "CycloneDX",
    specVersion: "1.5",
    serialNumber: serialNumber(image.digest),
    version: 1,
    metadata: {
      tools: { components: [{ type: "application", name: image.tool.name, version: image.tool.version }] },
      component: {
        type: "operating-system",
        "bom-ref": "image",
        name: image.name,
        hashes: [{ alg: "SHA-256", content: image.digest.replace(/^sha256:/, "") }],
        properties: props([["parent", image.parent], ["parent-digest", image.parentDigest], ...sources.map((s) => ["apt-source", line(s)] as [string, string])]),
      },
    },
    components: packages.map((p) => ({
      type: "library",
      "bom-ref": packageId(p),
      name: p.name,
      version: p.version,
      purl: debPurl(p),
      properties: props([["architecture", p.architecture], ["source", p.source], ["source-version", p.sourceVersion]]),
    })),
  };
}

export interface ReadSbom {
  image: string;
  digest: string;
  packages: InstalledPackage[];
  sources: AptSource[];
}

/** An SBOM of ours read back; an error names what is missing. */
export function readSbom(text: string): ReadSbom {
  const doc = JSON.parse(text) as { bomFormat?: string; metadata?: { component?: Component }; components?: Component[] };
  if (doc.bomFormat !== "CycloneDX" || !doc.metadata?.component) throw new Error("not a CycloneDX document with a metadata component");
  const prop = (c: Component, k: string) => c.properties?.find((p) => p.name === `${PROP}:${k}`)?.value;
  const image = doc.metadata.component;
  const sources = (image.properties ?? []).filter((p) => p.name === `${PROP}:apt-source`).map((p) => {
    const [source] = oneLineSources(p.value);
    if (!source) throw new Error(`apt-source ${JSON.stringify(p.value)}: not a deb line`);
    return source;
  });
  const packages = (doc.components ?? []).map((c) => ({
    name: c.name, version: c.version ?? "", architecture: prop(c, "architecture") ?? "",
    source: prop(c, "source") ?? c.name, sourceVersion: prop(c, "source-version") ?? c.version ?? "",
  }));
  const sha = image.hashes?.find((h) => h.alg === "SHA-256")?.content;
  return { image: image.name, digest: sha ? `sha256:${sha}` : "", packages, sources };
}

interface Component {
  name: string;
  version?: string;
  hashes?: { alg: string; content: string }[];
  properties?: { name: string; value: string }[];
}
