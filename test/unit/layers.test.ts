// The layers of provider/ stack one way, and pure code starts no process:
//   actions/ (pure) <- model/ (pure) <- build/ (processes) <- pulumi/ <- index.ts
// A module may import from its own layer or one below, never above, and no
// import circle exists between modules.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";

const PROVIDER = path.resolve(__dirname, "..", "..", "..", "provider");
const LAYERS = ["actions", "model", "build", "pulumi"];
/** What pure code never imports. */
const PROCESS_LAYER = [/^execa$/, /^(node:)?child_process$/, /^@pulumi\//];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith(".ts") ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  return [...text.matchAll(/(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*|^import\s+)"([^"]+)"/gm)].map((m) => m[1]);
}

/** The layer of a module: its first directory under provider/, or the package root (above every layer). */
function rank(file: string): number {
  const top = path.relative(PROVIDER, file).split(path.sep)[0];
  const i = LAYERS.indexOf(top);
  return i < 0 ? LAYERS.length : i;
}

function resolveModule(from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  return [`${base}.ts`, path.join(base, "index.ts")].find((f) => fs.existsSync(f));
}

describe("provider layers", () => {
  const files = sources(PROVIDER);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it("finds the modules of every layer", () => {
    for (const layer of LAYERS) expect(files.some((f) => rank(f) === LAYERS.indexOf(layer)), layer).to.equal(true);
  });

  it("imports only from the same layer or below", () => {
    const upward: string[] = [];
    for (const [file, specs] of graph) {
      for (const spec of specs) {
        const target = resolveModule(file, spec);
        if (target && rank(target) > rank(file)) upward.push(`${path.relative(PROVIDER, file)} imports ${spec}`);
      }
    }
    expect(upward).to.deep.equal([]);
  });

  it("keeps model/ and actions/ free of processes and of Pulumi", () => {
    const impure: string[] = [];
    for (const [file, specs] of graph) {
      if (rank(file) > LAYERS.indexOf("model")) continue;
      for (const spec of specs) {
        if (PROCESS_LAYER.some((re) => re.test(spec))) impure.push(`${path.relative(PROVIDER, file)} imports ${spec}`);
      }
    }
    expect(impure).to.deep.equal([]);
  });

  it("has no import circle", () => {
    const edges = new Map([...graph].map(([f, specs]) => [f, specs.map((s) => resolveModule(f, s)).filter((t): t is string => !!t)]));
    const state = new Map<string, "open" | "done">();
    const cycles: string[] = [];
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "open") {
        cycles.push([...trail.slice(trail.indexOf(f)), f].map((x) => path.relative(PROVIDER, x)).join(" -> "));
        return;
      }
      state.set(f, "open");
      for (const t of edges.get(f) ?? []) visit(t, [...trail, f]);
      state.set(f, "done");
    };
    for (const f of files) visit(f, []);
    expect(cycles).to.deep.equal([]);
  });
});
