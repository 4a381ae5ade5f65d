// The README stays a short entry for newcomers, and the links between it and
// the reference pages in docs/ lead somewhere: to a file that exists and, with
// an #anchor, to a heading of that page.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { anchorsOf, brokenLinks, lineCount, linksOf, slug } from "../support/markdown";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const README_MAX_LINES = 200;

function docPages(): string[] {
  return fs
    .readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`)
    .sort();
}

describe("documentation", () => {
  it(`keeps README.md at ${README_MAX_LINES} lines or fewer`, () => {
    const lines = lineCount(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"));
    expect(lines, "README.md lines: move reference text into a page of docs/").to.be.at.most(README_MAX_LINES);
  });

  it("has reference pages in docs/, each linked from README.md", () => {
    const pages = docPages();
    expect(pages.length).to.be.at.least(1);
    const linked = new Set(linksOf("README.md", fs.readFileSync(path.join(ROOT, "README.md"), "utf8")).map((l) => l.target.split("#")[0]));
    expect(pages.filter((p) => !linked.has(p)), "pages missing from README.md's map of docs/").to.deep.equal([]);
  });

  it("has no relative link in README.md or docs/*.md to a missing file or heading", () => {
    expect(brokenLinks(ROOT, ["README.md", ...docPages()])).to.deep.equal([]);
  });
});

describe("documentation link checker", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-docs-"));
    fs.mkdirSync(path.join(dir, "docs"));
    fs.writeFileSync(path.join(dir, "tool.ts"), "export {};\n");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function check(readme: string, page: string): string[] {
    fs.writeFileSync(path.join(dir, "README.md"), readme);
    fs.writeFileSync(path.join(dir, "docs", "page.md"), page);
    return brokenLinks(dir, ["README.md", "docs/page.md"]);
  }

  it("makes GitHub's anchors of headings", () => {
    expect(slug("What `pulumi up` shows")).to.equal("what-pulumi-up-shows");
    expect(slug("Your images.json, read as lvh reads it")).to.equal("your-imagesjson-read-as-lvh-reads-it");
    expect(slug("The direct backend (no VM)")).to.equal("the-direct-backend-no-vm");
    expect(slug("Two runners at once: the stack lock")).to.equal("two-runners-at-once-the-stack-lock");
    expect(slug("snake_case and kebab-case")).to.equal("snake_case-and-kebab-case");
    expect(slug("A [linked](x.md) heading")).to.equal("a-linked-heading");
    expect([...anchorsOf("# Setup\n\n## Setup\n\n```\n# not a heading\n```\n### Setup #\n")]).to.deep.equal([
      "setup",
      "setup-1",
      "setup-2",
    ]);
  });

  it("accepts links to existing files and headings, and ignores other sites and code", () => {
    const readme = [
      "See [the page](docs/page.md), [its part](docs/page.md#a-part-of-it) and [a line](tool.ts#L1).",
      "Also <https://example.com/x.md> and [a site](https://example.com/missing.md#nowhere).",
      "In code: `[x](missing.md)`, and",
      "```",
      "[y](missing.md)",
      "```",
    ].join("\n");
    const page = "# Page\n\n## A part of it\n\nBack to [the README](../README.md) and [here](#page).\n";
    expect(check(readme, page)).to.deep.equal([]);
  });

  it("names each link to a missing file, a missing heading or outside the repository", () => {
    const readme = "[gone](docs/gone.md)\n\n[no part](docs/page.md#a-part-of-it)\n\n[far](../outside.md)\n";
    const page = "# Page\n\n[self](#nothing-here) and [a line](../tool.ts#top)\n";
    expect(check(readme, page)).to.deep.equal([
      'README.md:1: link "docs/gone.md": docs/gone.md does not exist',
      'README.md:3: link "docs/page.md#a-part-of-it": no heading of docs/page.md has the anchor #a-part-of-it',
      'README.md:5: link "../outside.md" leaves the repository',
      'docs/page.md:3: link "#nothing-here": no heading of docs/page.md has the anchor #nothing-here',
      'docs/page.md:3: link "../tool.ts#top": #top is no line anchor of tool.ts',
    ]);
  });

  it("counts lines as an editor numbers them", () => {
    expect(lineCount("a\nb\n")).to.equal(2);
    expect(lineCount("a\nb")).to.equal(2);
    expect(lineCount("")).to.equal(0);
  });
});
