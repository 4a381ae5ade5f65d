// The imports of the project's TypeScript modules, as TypeScript itself
// reads and resolves them: static imports and exports in either quote
// style, `import type`, `require()` and dynamic `import()`, with or without
// a `.js` suffix.
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";

export const ROOT = path.resolve(__dirname, "..", "..", "..");
export const PROVIDER = path.join(ROOT, "provider");

const OPTIONS: ts.CompilerOptions = { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, allowJs: true };

/** The .ts files under `dir`, recursively. */
export function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

export interface Import {
  /** As written. */
  spec: string;
  /** The module it resolves to, for a module of this project (not one of node_modules). */
  target?: string;
}

const cache = new Map<string, Import[]>();

/** Every import of `file`, resolved. */
export function importsOf(file: string): Import[] {
  let found = cache.get(file);
  if (found) return found;
  const info = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
  found = info.importedFiles.map(({ fileName: spec }) => {
    const resolved = ts.resolveModuleName(spec, file, OPTIONS, ts.sys).resolvedModule;
    const target = resolved && !resolved.isExternalLibraryImport ? path.resolve(resolved.resolvedFileName) : undefined;
    return { spec, target };
  });
  cache.set(file, found);
  return found;
}

/** `roots` and every project module they import, directly or not. */
export function importClosure(roots: string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const { target } of importsOf(f)) if (target) visit(target);
  };
  roots.forEach(visit);
  return seen;
}
