// A change to what the pipeline builds must not slip by: the build key
// holds PIPELINE_VERSION, and this test holds PIPELINE_SOURCES, the
// fingerprint of every source that decides an image's content, next to it.
import { expect } from "chai";
import { PIPELINE_SOURCES, PIPELINE_VERSION } from "../../provider/model/buildkey";
import { HOW_NOT_WHAT, pipelineFingerprint, pipelineSources, reachedModules } from "../support/pipeline";

describe("pipeline version", () => {
  it("was decided for the current pipeline sources", () => {
    const now = pipelineFingerprint();
    expect(PIPELINE_SOURCES, [
      `The sources that decide what an image contains have changed (PIPELINE_VERSION is ${PIPELINE_VERSION}).`,
      "Decide, in provider/model/buildkey.ts:",
      "  - if the same inputs may now build a different image, increase PIPELINE_VERSION (every image is rebuilt);",
      "  - either way, record the new sources there (node dist/test/support/pipeline.js prints them):",
      `      export const PIPELINE_SOURCES = "${now}";`,
    ].join("\n")).to.equal(now);
  });

  it("covers the backends, what they run and the model they build from", () => {
    const covered = pipelineSources();
    for (const f of [
      "actions/run-command.ts", "actions/sh/upload.sh", "builder/backends/direct/root.ts", "builder/backends/guestfs.ts",
      "builder/backends/mmdebstrap.ts", "builder/sh/mmdebstrap-hook.sh", "builder/sandbox/sandbox.ts", "builder/boot/layout.ts",
      "builder/image/safebuild.ts", "model/config.ts", "model/image.ts", "model/sizes.ts",
    ]) expect(covered, f).to.include(f);
  });

  it("leaves out only modules that the backends reach", () => {
    const reached = reachedModules();
    const covered = pipelineSources();
    for (const f of Object.keys(HOW_NOT_WHAT)) {
      expect(reached, `${f} is listed in HOW_NOT_WHAT but no backend reaches it`).to.include(f);
      expect(covered).not.to.include(f);
    }
  });
});
