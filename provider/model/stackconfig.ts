// The root program's stack configuration (`vm-images:*` keys), validated:
// an unknown key or a bad value names the key and what it accepts.
import * as path from "node:path";
import { BACKEND_CHOICES, MIRROR_PATTERN, SUITE_PATTERN } from "./config";
import { parseRef, RefError, registryRefusal, TAG } from "./oci";

export interface StackSettings {
  imagesFile: string;
  dir: string;
  suite: string;
  mirror?: string;
  backend: string;
  mergeSteps: boolean;
  rebuild?: string;
  /** Published images to pull into `dir` before building. */
  pull: string[];
  /** Repository to publish built images to, and to look build keys up in. */
  registry?: string;
  /** A human tag per image, besides its build key. */
  tag?: string;
  insecureRegistry: boolean;
  /** Unset: boot-check bootable images where qemu is installed. */
  verifyBoot?: boolean;
  verbose: boolean;
  /** With a registry: keep a copy of every image in `dir` (true), or only what a build needs (false). */
  localCopies: boolean;
}

const KEYS: Record<keyof StackSettings, string> = {
  imagesFile: "path of an lvh images.json (default: examples/seed/images.json)",
  dir: "images directory (default: images)",
  suite: "Debian suite of root images (default: bookworm)",
  mirror: "Debian mirror URL (default: Debian's)",
  backend: `one of ${BACKEND_CHOICES.join(", ")} (default: auto)`,
  mergeSteps: "true or false (default: true)",
  rebuild: "any value; changing it rebuilds every image",
  pull: "published lvh images to pull into the images directory: a list of references (default: none)",
  registry: "repository to publish built images to and pull them from, such as 127.0.0.1:5000/team/images (default: none)",
  tag: "a tag for each published image besides its build key: <image>-<tag> (default: none)",
  insecureRegistry: "true: allow plain HTTP or unverified TLS for a registry not on loopback (default: false)",
  verifyBoot: "true or false: boot bootable images before keeping them (default: true where qemu is installed)",
  verbose: "true or false: every tool line in the CLI's output (default: false)",
  localCopies: "with a registry: true pulls every image into the images directory, false only the parents a build needs (default: true)",
};

/** A list value: a JSON array (`pulumi config set --path 'vm-images:pull[0]' REF`), or references separated by commas or spaces. */
function parseList(value: string | undefined): string[] {
  if (value === undefined || value.trim() === "") return [];
  if (value.trim().startsWith("[")) {
    const parsed: unknown = JSON.parse(value);
    if (!Array.isArray(parsed) || parsed.some((v) => typeof v !== "string")) throw new StackConfigError(`vm-images:pull: ${value} must be a list of references`);
    return parsed as string[];
  }
  return value.split(/[\s,]+/).filter(Boolean);
}

function checkRef(key: string, ref: string, insecure: boolean): void {
  try {
    const { host } = parseRef(ref);
    const refusal = registryRefusal(host, insecure);
    if (refusal) throw new StackConfigError(`vm-images:${key}: ${refusal}`);
  } catch (err) {
    if (err instanceof RefError) throw new StackConfigError(`vm-images:${key}: ${err.message}`);
    throw err;
  }
}

export class StackConfigError extends Error {}

/** Parse the `vm-images:` keys of a stack's config; relative paths resolve against `root`. */
export function parseStackConfig(config: Record<string, string>, root: string): StackSettings {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    const m = /^vm-images:(.*)$/.exec(key);
    if (!m) continue;
    if (!(m[1] in KEYS)) {
      throw new StackConfigError(
        `unknown stack config key ${key}; the keys are:\n${Object.entries(KEYS).map(([k, d]) => `  vm-images:${k}: ${d}`).join("\n")}`,
      );
    }
    values[m[1]] = value;
  }
  const backend = values.backend ?? "auto";
  if (!BACKEND_CHOICES.includes(backend as never)) {
    throw new StackConfigError(`vm-images:backend: ${JSON.stringify(backend)} is not one of ${BACKEND_CHOICES.join(", ")}`);
  }
  const mergeSteps = values.mergeSteps ?? "true";
  if (mergeSteps !== "true" && mergeSteps !== "false") {
    throw new StackConfigError(`vm-images:mergeSteps: ${JSON.stringify(mergeSteps)} must be true or false`);
  }
  for (const key of ["verifyBoot", "verbose"]) {
    if (values[key] !== undefined && values[key] !== "true" && values[key] !== "false") {
      throw new StackConfigError(`vm-images:${key}: ${JSON.stringify(values[key])} must be true or false`);
    }
  }
  const suite = values.suite ?? "bookworm";
  if (!SUITE_PATTERN.test(suite)) {
    throw new StackConfigError(`vm-images:suite: ${JSON.stringify(suite)} is not a Debian suite such as bookworm`);
  }
  if (values.mirror !== undefined && !MIRROR_PATTERN.test(values.mirror)) {
    throw new StackConfigError(`vm-images:mirror: ${JSON.stringify(values.mirror)} must be an http://, https:// or file:// URL`);
  }
  const insecure = values.insecureRegistry ?? "false";
  if (insecure !== "true" && insecure !== "false") {
    throw new StackConfigError(`vm-images:insecureRegistry: ${JSON.stringify(insecure)} must be true or false`);
  }
  const localCopies = values.localCopies ?? "true";
  if (localCopies !== "true" && localCopies !== "false") {
    throw new StackConfigError(`vm-images:localCopies: ${JSON.stringify(localCopies)} must be true or false`);
  }
  const pull = parseList(values.pull);
  for (const ref of pull) checkRef("pull", ref, insecure === "true");
  if (values.registry !== undefined) {
    checkRef("registry", values.registry, insecure === "true");
    const parsed = parseRef(values.registry);
    if (parsed.tag || parsed.digest) throw new StackConfigError(`vm-images:registry: ${JSON.stringify(values.registry)} must be a repository, without a tag or digest`);
  }
  if (values.tag !== undefined && !TAG.test(values.tag)) throw new StackConfigError(`vm-images:tag: ${JSON.stringify(values.tag)} is not a tag (${TAG.source})`);
  return {
    imagesFile: path.resolve(root, values.imagesFile ?? "examples/seed/images.json"),
    dir: path.resolve(root, values.dir ?? "images"),
    suite,
    mirror: values.mirror,
    backend,
    mergeSteps: mergeSteps === "true",
    rebuild: values.rebuild,
    pull,
    registry: values.registry,
    tag: values.tag,
    insecureRegistry: insecure === "true",
    verifyBoot: values.verifyBoot === undefined ? undefined : values.verifyBoot === "true",
    verbose: values.verbose === "true",
    localCopies: localCopies === "true",
  };
}
