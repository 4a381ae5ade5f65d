// The table `npm start` ends with, from the stack's summary output.
import { expect } from "chai";
import { bytes, shortDigest, summaryTable } from "../../cli/summarytable";

describe("npm start's summary table", () => {
  it("aligns one row per image under the header, its architecture (amd64 where unrecorded), a boot check in the build time, an overlay's share of flat, its packages, '-' where nothing is known", () => {
    const table = summaryTable({
      "base.img": {
        result: "built", arch: "arm64", seconds: 61.25, bootCheckSeconds: 19.04, sizeBytes: 8 * 2 ** 30, allocatedBytes: 1.5 * 2 ** 30, virtualBytes: 8 * 2 ** 30,
        digest: `sha256:0123456789ab${"c".repeat(52)}`, packages: 312,
      },
      "k8s.qcow2": { result: "reused", seconds: 12, sizeBytes: 700 * 2 ** 20, allocatedBytes: 701 * 2 ** 20, virtualBytes: 8 * 2 ** 30, digest: `sha256:${"f".repeat(64)}`, packages: 1204 },
      "kind.qcow2": { result: "built", seconds: 9, sizeBytes: 60 * 2 ** 20, allocatedBytes: 61 * 2 ** 20, virtualBytes: 8 * 2 ** 30, flatBytes: 710 * 2 ** 20 },
      "gone.img": { result: "reused" },
    });
    expect(table.split("\n")).to.deep.equal([
      "image       result  arch   build time                  disk     file (on disk)                             packages  digest",
      "base.img    built   arm64  61.3 s (boot check 19.0 s)  8.0 GiB  8.0 GiB (1.5 GiB)                          312       sha256:0123456789ab",
      "k8s.qcow2   reused  amd64  12.0 s                      8.0 GiB  700.0 MiB (701.0 MiB)                      1204      sha256:ffffffffffff",
      "kind.qcow2  built   amd64  9.0 s                       8.0 GiB  60.0 MiB (61.0 MiB, 9% of flat 710.0 MiB)  -         -",
      "gone.img    reused  amd64  -                           -        - (-)                                      -         -",
    ]);
  });

  it("shortens a digest to its first 12 hex digits", () => {
    expect(shortDigest(`sha256:${"ab".repeat(32)}`)).to.equal("sha256:abababababab");
    expect(shortDigest(undefined)).to.equal("-");
  });

  it("writes sizes in binary units", () => {
    expect([0, 1023, 1024, 1536 * 1024, 5 * 2 ** 40, 2 ** 52].map(bytes)).to.deep.equal(["0 B", "1023 B", "1.0 KiB", "1.5 MiB", "5.0 TiB", "4096.0 TiB"]);
    expect(bytes(undefined)).to.equal("-");
  });
});
