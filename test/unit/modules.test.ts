// Modules stay small and findable: none of provider/ is over 250 lines, and
// provider/README.md names every module and shell script, so a newcomer's
// map of the code cannot fall behind it.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROVIDER } from "../support/imports";

const MAX_LINES = 250;

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : /\.(ts|sh)$/.test(e.name) ? [p] : [];
  });
}

/** Paths relative to provider/ that the README names in backquotes; a `dir/<type>.ts` pattern names every module of dir/. */
function named(readme: string): (rel: string) => boolean {
  const prose = readme.replace(/^```[^]*?^```/gm, "");
  const spans = [...prose.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  const patterns = spans.flatMap((s) => s.split(/,\s*/)).map((s) => s.trim());
  return (rel) => patterns.some((p) => {
    if (p === rel) return true;
    if (!p.includes("*") && !p.includes("<")) return false;
    const re = new RegExp(`^${p.split(/\*|<[^>]+>/).map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]+")}$`);
    return re.test(rel);
  });
}

describe("provider modules", () => {
  const all = files(PROVIDER).map((f) => path.relative(PROVIDER, f).split(path.sep).join("/"));

  it(`are at most ${MAX_LINES} lines each`, () => {
    const long = all.filter((f) => f.endsWith(".ts"))
      .map((f) => [f, fs.readFileSync(path.join(PROVIDER, f), "utf8").split("\n").length - 1] as const)
      .filter(([, n]) => n > MAX_LINES)
      .map(([f, n]) => `${f}: ${n} lines`);
    expect(long).to.deep.equal([]);
  });

  it("are each named in provider/README.md", () => {
    const isNamed = named(fs.readFileSync(path.join(PROVIDER, "README.md"), "utf8"));
    expect(all.filter((f) => !isNamed(f))).to.deep.equal([]);
  });
});
