// docs/performance.md quotes the bench's latest results file and nothing
// else: what stands between its markers is what `node dist/bench/docs.js`
// makes from the latest bench/results/*.json (while there is none, the line
// saying so). This test regenerates it and fails on any difference.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ARCH_BEGIN, ARCH_END, archRun, BEGIN, END, generatedPage, generatedSection, headlineRun, PAGE, RESULTS_DIR, withSection } from "../../bench/docs";
import { NO_ARCH_RESULTS, NO_RESULTS } from "../../bench/render";
import { readResultsDir } from "../../bench/results";
import { fixture } from "../support/benchfixture";

describe("docs/performance.md: the bench's figures", () => {
  it("are what the generator makes from the latest results file (run node dist/bench/docs.js)", () => {
    const page = fs.readFileSync(PAGE, "utf8");
    expect(page, "docs/performance.md differs from `node dist/bench/docs.js`'s rendering of the latest results").to.equal(generatedPage(page));
    const found = headlineRun(readResultsDir(RESULTS_DIR));
    if (!found) expect(page.slice(page.indexOf(BEGIN), page.indexOf(END))).to.include(NO_RESULTS);
    if (!archRun(readResultsDir(RESULTS_DIR))) expect(page.slice(page.indexOf(ARCH_BEGIN), page.indexOf(ARCH_END))).to.include(NO_ARCH_RESULTS);
  });

  it("come from a results file when there is one, and a second generation changes nothing", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-docs-test-"));
    try {
      const r = fixture();
      fs.writeFileSync(path.join(dir, "2030-01-02-0123456789ab.json"), JSON.stringify(r));
      fs.writeFileSync(path.join(dir, "2029-12-31-layering.txt"), "raw output, not a results file");
      const page = `# t\n\n${BEGIN}\n${NO_RESULTS}\n${END}\n\n${ARCH_BEGIN}\n${ARCH_END}\n\nafter\n`;
      const made = generatedPage(page, dir);
      expect(made).to.include("[2030-01-02-0123456789ab.json](../bench/results/2030-01-02-0123456789ab.json)");
      expect(made).to.include("| direct | none | 12.0, 10.0, 11.0 | 11.0 s | 10.0 |").and.not.include(NO_RESULTS);
      expect(made).to.include(NO_ARCH_RESULTS);
      expect(made.endsWith(`${ARCH_END}\n\nafter\n`)).to.equal(true);
      expect(generatedPage(made, dir)).to.equal(made);
      // A later run narrowed to the direct backend and arm64: the headline stays the run with lvh; the arm64 section is the new one's.
      const narrowed = fixture(true);
      narrowed.finished = "2030-01-03T00:00:00.000Z";
      narrowed.builders = [{ id: "direct", tool: "direct", accel: "none" }, { id: "direct (arm64)", tool: "direct", accel: "none", arch: "arm64", forests: ["seed"] }];
      narrowed.forests[0].samples = [11, 12, 10, 40, 44, 36].map((seconds, i) => ({ builder: i < 3 ? "direct" : "direct (arm64)", condition: "empty" as const,
        round: i % 3, position: 0, seconds, flushSeconds: 1, peakKiB: 1, bootCheckSeconds: 0, images: {} }));
      fs.writeFileSync(path.join(dir, "2030-01-03-fedcba987654.json"), JSON.stringify(narrowed));
      const both = generatedPage(made, dir);
      expect(both.slice(0, both.indexOf(END))).to.include("2030-01-02-0123456789ab.json").and.not.include("2030-01-03");
      const arch = both.slice(both.indexOf(ARCH_BEGIN), both.indexOf(ARCH_END));
      expect(arch).to.include("[2030-01-03-fedcba987654.json]").and.include("| direct (arm64) | 40.0, 44.0, 36.0 | 40.0 s |")
        .and.include("- direct (arm64) / direct (amd64): 3.6x (target: at most 4x)");
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
