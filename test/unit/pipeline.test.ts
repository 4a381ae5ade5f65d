// A change to what the pipeline builds must not slip by: the build key
// holds PIPELINE_VERSION, and this test holds PIPELINE_SOURCES, the
// fingerprint of every source that decides an image's content, next to it.
import { expect } from "chai";
import { PIPELINE_SOURCES, PIPELINE_VERSION } from "../../provider/model/buildkey";
import { pipelineFingerprint } from "../support/pipeline";

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
});
