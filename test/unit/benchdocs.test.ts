// docs/performance.md quotes the bench's latest results file and nothing
// else: what stands between its markers is what `node dist/bench/docs.js`
// makes from the latest bench/results/*.json (while there is none, the line
// saying so). This test regenerates it and fails on any difference.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BEGIN, END, generatedPage, generatedSection, PAGE, RESULTS_DIR, withSection } from "../../bench/docs";
import { NO_RESULTS } from "../../bench/render";
import { latest, readResultsDir } from "../../bench/results";
import { fixture } from "../support/benchfixture";

describe("docs/performance.md: the bench's figures", () => {
  it("are what the generator makes from the latest results file (run node dist/bench/docs.js)", () => {
    const page = fs.readFileSync(PAGE, "utf8");
    expect(page, "docs/performance.md differs from `node dist/bench/docs.js`'s rendering of the latest results").to.equal(generatedPage(page));
    const found = latest(readResultsDir(RESULTS_DIR));
    if (!found) expect(page.slice(page.indexOf(BEGIN), page.indexOf(END))).to.include(NO_RESULTS);
  });

  it("come from a results file when there is one, and a second generation changes nothing", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-docs-test-"));
    try {
      const r = fixture();
      fs.writeFileSync(path.join(dir, "2030-01-02-0123456789ab.json"), JSON.stringify(r));
      fs.writeFileSync(path.join(dir, "2029-12-31-layering.txt"), "raw output, not a results file");
      const page = `# t\n\n${BEGIN}\n${NO_RESULTS}\n${END}\n\nafter\n`;
      const made = generatedPage(page, dir);
      expect(made).to.include("[2030-01-02-0123456789ab.json](../bench/results/2030-01-02-0123456789ab.json)");
      expect(made).to.include("| direct | none | 12.0, 10.0, 11.0 | 11.0 s | 10.0 |").and.not.include(NO_RESULTS);
      expect(made.endsWith(`${END}\n\nafter\n`)).to.equal(true);
      expect(generatedPage(made, dir)).to.equal(made);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("need both markers, once each", () => {
    expect(() => withSection("no markers", "x")).to.throw(/once each/);
    expect(() => withSection(`${BEGIN}\n${END}\n${BEGIN}\n${END}`, "x")).to.throw(/once each/);
    expect(generatedSection(undefined)).to.equal(NO_RESULTS);
  });
});
