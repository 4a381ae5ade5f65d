// What mmdebstrap, which runs from an empty environment under the direct
// backend and passes its own on to the package scripts, is given of ours.
import { expect } from "chai";
import { bootstrapEnv } from "../../provider/builder/backends/mmdebstrap";

describe("bootstrapEnv()", () => {
  it("gives mmdebstrap its scratch directory, apt's proxies and SOURCE_DATE_EPOCH, and nothing else of ours", () => {
    const ours = {
      PULUMI_CONFIG_PASSPHRASE: "secret", AWS_SECRET_ACCESS_KEY: "secret", HOME: "/root", TMPDIR: "/tmp",
      http_proxy: "http://proxy:3128", HTTPS_PROXY: "http://proxy:3129", no_proxy: "localhost", SOURCE_DATE_EPOCH: "1700000000",
    };
    expect(bootstrapEnv("/var/tmp/build", ours)).to.deep.equal({
      http_proxy: "http://proxy:3128", HTTPS_PROXY: "http://proxy:3129", no_proxy: "localhost", SOURCE_DATE_EPOCH: "1700000000", TMPDIR: "/var/tmp/build",
    });
    expect(bootstrapEnv("/w", {})).to.deep.equal({ TMPDIR: "/w" });
  });
});
