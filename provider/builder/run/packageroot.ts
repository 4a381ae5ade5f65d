// Where the package's own files are at run time: this module runs from
// dist/provider/builder/run/, and the package root holds provider/ (the
// shell scripts, shipped as source) and scripts/lib/ (what setup shares).
import * as path from "node:path";

/** The package's root directory. */
export const PACKAGE_ROOT = path.resolve(__dirname, "..", "..", "..", "..");

/** A CommonJS module of scripts/lib/, shared with setup (which runs before the TypeScript build). */
export function sharedScript<T>(name: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(PACKAGE_ROOT, "scripts", "lib", name)) as T;
}
