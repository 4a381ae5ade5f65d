// The benchmark keeps working: its smoke mode (the direct backend, a tiny
// forest, one sample with empty package caches and one with warm ones)
// runs through the real CLI and prints its tables. It also proves, through
// the CLI, the two caches: a root image whose action alone changed is
// rebuilt from its cached packages stage (no mmdebstrap), and reverting the
// edit takes both images from the image cache.
import { expect } from "chai";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { REPO } from "./harness";

describe("e2e: npm run bench -- --smoke", function () {
  this.timeout(20 * 60_000);
  it("samples, builds, no-ops, rebuilds and reverts a tiny forest and prints the tables", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(REPO, "dist", "bench", "bench.js"), "--smoke"], {
      maxBuffer: 16 << 20,
    });
    const s = String.raw`[\d.]+ s`;
    for (const caches of ["empty", "warm"]) {
      expect(stdout).to.match(new RegExp(`^\\| smoke \\| 1 \\| 1 \\| direct \\| ${caches} \\| ${s} \\| ${s} \\| ${s} \\| ${s} \\| \\d+ MiB \\|$`, "m"));
    }
    expect(stdout).to.match(new RegExp(`^\\| cold \\| ${s} \\| \\d+ MiB \\| ${s} built \\| ${s} built \\|$`, "m"));
    expect(stdout).to.match(new RegExp(`^\\| no-op \\| ${s} \\| \\d+ MiB \\| unchanged \\| unchanged \\|$`, "m"));
    expect(stdout).to.match(/^\| smoke \| direct \| empty \| child\.qcow2 \| copy parent disk \(qemu-img convert\) \| [\d.]+ \|$/m);
    const edit = /^- smoke direct: root action-only: base\.img: .*\(steps: (.*)\)$/m.exec(stdout);
    expect(edit, stdout).to.not.equal(null);
    expect(edit![1]).to.include("look up packages stage (cache)").and.include("run actions (sandbox)").and.not.include("mmdebstrap");
    expect(stdout).to.match(new RegExp(`^\\| revert \\| ${s} \\| \\d+ MiB \\| ${s} image cache, [^|]* \\| ${s} image cache, [^|]* \\|$`, "m"));
  });
});
