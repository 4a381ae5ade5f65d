// The docs' stack config table is the settings table's: same keys, same
// meaning and default. It is rendered from settings.ts; this test fails
// when the Markdown in the docs says something else.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { stackConfigTable } from "../../provider/model/stackconfig";

const REPO = path.resolve(__dirname, "..", "..", "..");
const HEADER = "| stack config key | meaning | default |";

/** The docs that may hold the table: the README and docs/*.md. */
function docs(): string[] {
  const dir = path.join(REPO, "docs");
  const pages = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".md")).map((f) => path.join(dir, f)) : [];
  return [path.join(REPO, "README.md"), ...pages.sort()];
}

describe("the docs' stack config table", () => {
  it("is in exactly one page, and is the settings table's, row for row", () => {
    const found = docs().flatMap((file) => {
      const lines = fs.readFileSync(file, "utf8").split("\n");
      return lines.flatMap((line, i) => {
        if (line.trim() !== HEADER) return [];
        const end = lines.findIndex((l, j) => j > i && !l.trimStart().startsWith("|"));
        return [{ file: path.relative(REPO, file), table: lines.slice(i, end < 0 ? undefined : end).map((l) => l.trim()).join("\n") }];
      });
    });
    expect(found.map((f) => f.file), "pages with the table").to.have.length(1);
    expect(found[0].table).to.equal(stackConfigTable());
  });
});
