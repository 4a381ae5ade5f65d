// The benchmark keeps working: its smoke mode (the direct backend, a tiny
// forest) runs through the real CLI and prints its tables. It also proves,
// through the CLI, the two caches: a root image whose action alone changed
// is rebuilt from its cached packages stage (no mmdebstrap), and reverting
// the edit takes both images from the image cache.
import { expect } from "chai";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { REPO } from "./harness";

describe("e2e: npm run bench -- --smoke", function () {
  this.timeout(20 * 60_000);
  it("builds, no-ops, rebuilds and reverts a tiny forest and prints the tables", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(REPO, "dist", "bench", "bench.js"), "--smoke"], {
      maxBuffer: 16 << 20,
    });
    const s = String.raw`[\d.]+ s`;
    expect(stdout).to.match(new RegExp(`^\\| smoke \\| direct \\| cold \\| ${s} \\| \\d+ MiB \\| base\\.img ${s} built; child\\.qcow2 ${s} built \\|$`, "m"));
    expect(stdout).to.match(new RegExp(`^\\| smoke \\| direct \\| no-op \\| ${s} \\| \\d+ MiB \\| base\\.img ${s} built; child\\.qcow2 ${s} built \\|$`, "m"));
    expect(stdout).to.match(/^\| smoke \| direct \| child\.qcow2 \| copy parent disk \(qemu-img convert\) \| [\d.]+ \|$/m);
    const edit = /^smoke direct: root action-only rebuild of base\.img: .*\(steps: (.*)\)$/m.exec(stdout);
    expect(edit, stdout).to.not.equal(null);
    expect(edit![1]).to.include("look up packages stage (cache)").and.include("run actions (sandbox)").and.not.include("mmdebstrap");
    expect(stdout).to.match(/^smoke direct: revert of base\.img: [\d.]+ s \(image cache\)/m);
    expect(stdout).to.match(/^smoke direct: revert of child\.qcow2: [\d.]+ s \(image cache\)/m);
  });
});
