// Publishing is deterministic where it matters, against a real registry with
// the real crane, zstd and tar: the same image bytes, published twice from
// two copies (other inode, mtime, owner, directory and time of publishing),
// give the same layer; only the manifest's annotations say when. The
// manifest says the file's content digest, the one `sha256sum` prints.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { contentDigest } from "../../provider/builder/image/digest";
import { registrySession } from "../../provider/builder/oci/crane";
import { publishImage } from "../../provider/builder/oci/publish";
import { memoryLogger } from "../../provider/builder/run/log";
import { craneSync, TestRegistry } from "../support/registry";

describe("integration: publishing the same bytes twice", function () {
  this.timeout(5 * 60_000);
  let reg: TestRegistry;
  let work: string;

  before(async () => {
    reg = await TestRegistry.start();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-publish-"));
  });
  after(async () => {
    await reg?.dispose();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("gives equal layer digests (tar headers and compression fixed), and the content digest in the annotations", async () => {
    // A sparse image with data in several zstd jobs' worth of its length.
    const a = path.join(work, "a", "base.img");
    fs.mkdirSync(path.dirname(a));
    const fd = fs.openSync(a, "w");
    for (const at of [0, 40 << 20, 90 << 20]) fs.writeSync(fd, crypto.randomBytes(6 << 20), 0, 6 << 20, at);
    fs.ftruncateSync(fd, 256 << 20);
    fs.closeSync(fd);
    const b = path.join(work, "b", "base.img");
    fs.mkdirSync(path.dirname(b));
    execFileSync("cp", ["--sparse=always", a, b]);
    fs.utimesSync(b, new Date(2001, 1, 1), new Date(2001, 1, 1));
    fs.chmodSync(b, 0o600);

    const digest = await contentDigest(a);
    expect(digest).to.equal(`sha256:${execFileSync("sha256sum", [a], { encoding: "utf8" }).split(" ")[0]}`);
    expect(await contentDigest(b)).to.equal(digest);

    const repository = `${reg.host}/team/repro`;
    const publishOnce = async (file: string, buildKey: string, created: string) => {
      const session = registrySession();
      try {
        return await publishImage({
          file, repository, log: memoryLogger(), label: "publish", session,
          facts: { name: "base.img", buildKey, digest, suite: "bookworm", backend: "direct", created },
        });
      } finally {
        session.close();
      }
    };
    const first = await publishOnce(a, "a".repeat(64), "2026-01-01T00:00:00.000Z");
    const second = await publishOnce(b, "b".repeat(64), "2026-06-01T12:34:56.000Z");
    const manifest = (ref: string) => JSON.parse(craneSync(["manifest", ref]));
    const [m1, m2] = [manifest(first), manifest(second)];
    expect(m1.layers).to.have.length(1);
    expect(m2.layers.map((l: { digest: string }) => l.digest)).to.deep.equal(m1.layers.map((l: { digest: string }) => l.digest));
    // What varies per publish lives in the annotations only.
    expect(m1.annotations["org.opencontainers.image.created"]).not.to.equal(m2.annotations["org.opencontainers.image.created"]);
    expect(m1.annotations["io.github.pulumi-vm-images.content-digest"]).to.equal(digest);
    expect(m2.annotations["io.github.pulumi-vm-images.content-digest"]).to.equal(digest);
  });
});
