// The shell scripts of the package: real .sh files, checked by shellcheck,
// shipped in the package's source tree beside the compiled code. Host
// scripts live in build/sh/, the actions' guest scripts in actions/sh/.
import * as fs from "node:fs";
import * as path from "node:path";

/** The package's `provider/` source directory (this file runs from dist/provider/build/). */
const PROVIDER_SOURCE = path.resolve(__dirname, "..", "..", "..", "provider");

/** Path of a script of build/sh/. */
export function hostScript(name: string): string {
  return path.join(PROVIDER_SOURCE, "build", "sh", name);
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
