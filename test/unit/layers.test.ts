// The layers of provider/ stack one way, and pure code starts no process:
//   actions/ (pure) <- model/ (pure) <- builder/ (processes) <- pulumi/ <- index.ts
// A module may import from its own layer or one below, never above, and no
// import circle exists between modules. Imports are read and resolved by
// TypeScript itself (test/support/imports.ts).
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { importsOf, PROVIDER, sources } from "../support/imports";

const LAYERS = ["actions", "model", "builder", "pulumi"];
/** What pure code never imports. */
const PROCESS_LAYER = [/^execa$/, /^(node:)?child_process$/, /^@pulumi\//];

/** The layer of a module: its first directory under provider/, or the package root (above every layer). */
function rank(file: string): number {
  const top = path.relative(PROVIDER, file).split(path.sep)[0];
  const i = LAYERS.indexOf(top);
  return i < 0 ? LAYERS.length : i;
}

const rel = (f: string) => path.relative(PROVIDER, f);

function upwardImports(files: string[]): string[] {
  return files.flatMap((file) => importsOf(file)
    .filter(({ target }) => target && rank(target) > rank(file))
    .map(({ spec }) => `${rel(file)} imports ${spec}`));
}

function impureImports(files: string[]): string[] {
  return files.filter((f) => rank(f) <= LAYERS.indexOf("model")).flatMap((file) => importsOf(file)
    .filter(({ spec }) => PROCESS_LAYER.some((re) => re.test(spec)))
    .map(({ spec }) => `${rel(file)} imports ${spec}`));
}

describe("provider layers", () => {
  const files = sources(PROVIDER);

  it("finds the modules of every layer", () => {
    for (const layer of LAYERS) expect(files.some((f) => rank(f) === LAYERS.indexOf(layer)), layer).to.equal(true);
  });

  it("imports only from the same layer or below", () => {
    expect(upwardImports(files)).to.deep.equal([]);
  });

  it("keeps model/ and actions/ free of processes and of Pulumi", () => {
    expect(impureImports(files)).to.deep.equal([]);
  });

  it("has no import circle", () => {
    const state = new Map<string, "open" | "done">();
    const cycles: string[] = [];
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "open") {
        cycles.push([...trail.slice(trail.indexOf(f)), f].map(rel).join(" -> "));
        return;
      }
      state.set(f, "open");
      for (const { target } of importsOf(f)) if (target) visit(target, [...trail, f]);
      state.set(f, "done");
    };
    for (const f of files) visit(f, []);
    expect(cycles).to.deep.equal([]);
  });

  it("sees every way of importing (single quotes, .js, require, dynamic import, export from)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-layers-"));
    try {
      const model = path.join(dir, "model");
      fs.mkdirSync(path.join(dir, "builder"), { recursive: true });
      fs.mkdirSync(model);
      fs.writeFileSync(path.join(dir, "builder", "run.ts"), "export const x = 1;\n");
      const spellings = [
        "import { x } from '../builder/run';",
        "import { x as y } from \"../builder/run.js\";",
        "const z = require(\"../builder/run\");",
        "export async function f() { return import('../builder/run'); }",
        "export { x as w } from \"../builder/run\";",
        "import 'node:child_process';",
      ];
      spellings.forEach((line, i) => fs.writeFileSync(path.join(model, `m${i}.ts`), `${line}\n`));
      const probes = spellings.map((_, i) => path.join(model, `m${i}.ts`));
      const seen = probes.map((f) => importsOf(f).map((imp) => imp.target ? path.relative(dir, imp.target) : imp.spec));
      expect(seen).to.deep.equal([
        ["builder/run.ts"], ["builder/run.ts"], ["builder/run.ts"], ["builder/run.ts"], ["builder/run.ts"], ["node:child_process"],
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
