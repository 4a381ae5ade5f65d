// The shell scripts of the package: real .sh files, checked by shellcheck,
// shipped in the package's source tree beside the compiled code. Host
// scripts live in builder/sh/, the actions' guest scripts in actions/sh/.
import * as fs from "node:fs";
import * as path from "node:path";
import { PACKAGE_ROOT } from "./packageroot";

/** The package's `provider/` source directory. */
const PROVIDER_SOURCE = path.join(PACKAGE_ROOT, "provider");

/** Path of a script of builder/sh/. */
export function hostScript(name: string): string {
  return path.join(PROVIDER_SOURCE, "builder", "sh", name);
}

const texts = new Map<string, string>();

/** Text of a script, by its path under provider/ (such as "actions/sh/upload.sh"), read once. */
export function scriptText(relative: string): string {
  let text = texts.get(relative);
  if (text === undefined) {
    text = fs.readFileSync(path.join(PROVIDER_SOURCE, relative), "utf8");
    texts.set(relative, text);
  }
  return text;
}
