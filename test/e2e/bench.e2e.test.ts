// The benchmark keeps working: its smoke mode (the direct backend, a tiny
// forest) runs through the real CLI and prints its tables.
import { expect } from "chai";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { REPO } from "./harness";

describe("e2e: npm run bench -- --smoke", function () {
  this.timeout(20 * 60_000);
  it("builds, no-ops and rebuilds a tiny forest and prints the tables", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(REPO, "dist", "bench", "bench.js"), "--smoke"], {
      maxBuffer: 16 << 20,
    });
    expect(stdout).to.match(/^\| direct \| [\d.]+ s \| 0\.0 s \| [\d.]+ s \| [\d.]+ s \| [\d.]+ s \| \d+ MiB \| \S+ \|$/m);
    expect(stdout).to.match(/^\| direct \| child\.qcow2 \| copy parent disk \(qemu-img convert\) \| [\d.]+ \|$/m);
    expect(stdout).to.match(/^\| direct \| base\.img \| \d+ MiB \| \d+ MiB \|$/m);
    expect(stdout).to.match(/^lvh: /m);
  });
});
