// The root program's stack configuration (`vm-images:*` keys), validated:
// an unknown key or a bad value names the key and what it accepts.
import * as path from "node:path";
import { BACKEND_CHOICES, MIRROR_PATTERN, SUITE_PATTERN } from "./config";

export interface StackSettings {
  imagesFile: string;
  dir: string;
  suite: string;
  mirror?: string;
  backend: string;
  mergeSteps: boolean;
  rebuild?: string;
  /** Unset: boot-check bootable images where qemu is installed. */
  verifyBoot?: boolean;
  verbose: boolean;
}

const KEYS: Record<keyof StackSettings, string> = {
  imagesFile: "path of an lvh images.json (default: examples/seed/images.json)",
  dir: "images directory (default: images)",
  suite: "Debian suite of root images (default: bookworm)",
  mirror: "Debian mirror URL (default: Debian's)",
  backend: `one of ${BACKEND_CHOICES.join(", ")} (default: auto)`,
  mergeSteps: "true or false (default: true)",
  rebuild: "any value; changing it rebuilds every image",
  verifyBoot: "true or false: boot bootable images before keeping them (default: true where qemu is installed)",
  verbose: "true or false: every tool line in the CLI's output (default: false)",
};

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
  return {
    imagesFile: path.resolve(root, values.imagesFile ?? "examples/seed/images.json"),
    dir: path.resolve(root, values.dir ?? "images"),
    suite,
    mirror: values.mirror,
    backend,
    mergeSteps: mergeSteps === "true",
    rebuild: values.rebuild,
    verifyBoot: values.verifyBoot === undefined ? undefined : values.verifyBoot === "true",
    verbose: values.verbose === "true",
  };
}
