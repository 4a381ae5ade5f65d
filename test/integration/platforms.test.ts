// One tag, two architectures, against a real registry with the real crane:
// an amd64 and an arm64 image published under one human tag (as two stacks
// that build the same images file for each architecture do) make an OCI
// image index of linux/amd64 and linux/arm64/v8; `lvh images pull
// --platform` gives each its own bytes; publishing amd64 again replaces only
// its entry; the config and an annotation say the architecture; a plain
// manifest of another platform is refused, naming both.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { contentDigest } from "../../provider/builder/image/digest";
import { registrySession } from "../../provider/builder/oci/crane";
import { publishImage, tagPublished } from "../../provider/builder/oci/publish";
import { pullImages } from "../../provider/builder/oci/pull";
import { memoryLogger } from "../../provider/builder/run/log";
import { humanTag } from "../../provider/model/oci";
import { craneSync, TestRegistry } from "../support/registry";

const LVH = path.resolve(__dirname, "..", "..", "cli", "lvh.js");

function lvhPull(args: string[]) {
  const env = { ...process.env };
  delete env.INIT_CWD;
  return spawnSync(process.execPath, [LVH, "images", "pull", ...args], { encoding: "utf8", env });
}

interface Index {
  mediaType: string;
  manifests: { digest: string; platform?: { os: string; architecture: string; variant?: string } }[];
}

describe("integration: one tag, two architectures", function () {
  this.timeout(5 * 60_000);
  let reg: TestRegistry;
  let work: string;
  let repository: string;
  const published: Record<string, string> = {};
  const files: Record<string, string> = {};

  /** A small image of `arch`, published through the provider's own path, under the human tag `ci`. */
  const publish = async (arch: string, key: string, bytes: Buffer, tag = "ci") => {
    const file = path.join(work, key, "base.img");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bytes);
    const session = registrySession();
    try {
      const ref = await publishImage({
        file, repository, tag, log: memoryLogger(), label: "publish", session,
        facts: { name: "base.img", buildKey: key.repeat(64), digest: await contentDigest(file), suite: "bookworm", backend: "direct", arch, created: "2026-01-01T00:00:00.000Z" },
      });
      return { ref, file };
    } finally {
      session.close();
    }
  };
  const tagRef = () => `${repository}:${humanTag("ci", "base.img")}`;
  const index = (): Index => JSON.parse(craneSync(["manifest", tagRef()])) as Index;
  const digestOf = (ref: string) => ref.slice(ref.indexOf("@") + 1);
  const platforms = (i: Index) => i.manifests.map((m) => [m.platform?.os, m.platform?.architecture, m.platform?.variant].filter(Boolean).join("/"));

  before(async () => {
    reg = await TestRegistry.start();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-platforms-"));
    repository = `${reg.host}/team/images`;
    for (const [arch, key] of [["amd64", "a"], ["arm64", "b"]]) {
      const r = await publish(arch, key, crypto.randomBytes(1 << 20));
      published[arch] = r.ref;
      files[arch] = r.file;
    }
  });
  after(async () => {
    await reg?.dispose();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("the config and an annotation say each image's architecture", () => {
    const config = JSON.parse(craneSync(["config", published.arm64]));
    expect([config.os, config.architecture, config.variant]).to.deep.equal(["linux", "arm64", "v8"]);
    expect(JSON.parse(craneSync(["config", published.amd64])).architecture).to.equal("amd64");
    expect(JSON.parse(craneSync(["manifest", published.arm64])).annotations["io.github.pulumi-vm-images.arch"]).to.equal("arm64");
    expect(JSON.parse(craneSync(["manifest", published.amd64])).annotations["io.github.pulumi-vm-images.arch"]).to.equal("amd64");
    // The build keys' tags stay plain manifests, one per architecture.
    expect(craneSync(["digest", `${repository}:${"b".repeat(64)}`])).to.equal(digestOf(published.arm64));
  });

  it("the human tag is an index listing linux/amd64 and linux/arm64", () => {
    const i = index();
    expect(i.mediaType).to.equal("application/vnd.oci.image.index.v1+json");
    expect(platforms(i)).to.deep.equal(["linux/amd64", "linux/arm64/v8"]);
    expect(i.manifests.map((m) => m.digest)).to.deep.equal([digestOf(published.amd64), digestOf(published.arm64)]);
  });

  it("pulls by platform give each its own bytes; no --platform is the host's, linux/amd64", () => {
    for (const [arch, platform] of [["arm64", "linux/arm64"], ["amd64", "linux/amd64"], ["arm64", "linux/arm64/v8"]]) {
      const dir = path.join(work, `pull-${platform.replace(/\//g, "-")}`);
      const r = lvhPull([tagRef(), "--dir", dir, "--platform", platform]);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.include(digestOf(published[arch]));
      expect(fs.readFileSync(path.join(dir, "images", "base.img")).equals(fs.readFileSync(files[arch])), platform).to.equal(true);
    }
    const host = lvhPull([tagRef(), "--dir", path.join(work, "pull-host")]);
    expect(host.status, host.stderr).to.equal(0);
    expect(host.stdout).to.include(digestOf(published.amd64));
  });

  it("publishing amd64 again replaces only the amd64 entry", async () => {
    const again = await publish("amd64", "c", crypto.randomBytes(1 << 20));
    const i = index();
    expect(platforms(i)).to.deep.equal(["linux/amd64", "linux/arm64/v8"]);
    expect(i.manifests.map((m) => m.digest)).to.deep.equal([digestOf(again.ref), digestOf(published.arm64)]);
    const session = registrySession();
    try {
      const r = await pullImages({ ref: tagRef(), dir: path.join(work, "again"), platform: "linux/amd64", log: memoryLogger(), label: "pull", session });
      expect(r.digest).to.equal(digestOf(again.ref));
      expect(fs.readFileSync(r.files[0].path).equals(fs.readFileSync(again.file))).to.equal(true);
    } finally {
      session.close();
    }
    published.amd64 = again.ref;
    files.amd64 = again.file;
  });

  it("a tag that another publish overwrote gets this one's entry back beside the other's", async () => {
    // As when the other stack's write landed over this one's: the tag holds the arm64 manifest alone.
    craneSync(["tag", published.arm64, humanTag("ci", "base.img")]);
    const session = registrySession();
    try {
      await tagPublished(published.amd64, "base.img", "ci", "amd64", { log: memoryLogger(), label: "publish", session });
      // Again: nothing to do, the tag does not move.
      const before = craneSync(["digest", tagRef()]);
      await tagPublished(published.amd64, "base.img", "ci", "amd64", { log: memoryLogger(), label: "publish", session });
      expect(craneSync(["digest", tagRef()])).to.equal(before);
    } finally {
      session.close();
    }
    const i = index();
    expect(platforms(i)).to.deep.equal(["linux/arm64/v8", "linux/amd64"]);
    expect(i.manifests.map((m) => m.digest)).to.deep.equal([digestOf(published.arm64), digestOf(published.amd64)]);
  });

  it("one architecture alone keeps its tag a plain manifest, as before", async () => {
    const only = await publish("amd64", "d", crypto.randomBytes(4096), "solo");
    expect(craneSync(["digest", `${repository}:${humanTag("solo", "base.img")}`])).to.equal(digestOf(only.ref));
  });

  it("refuses a plain manifest of another platform, naming the reference, the platform asked and the one found", () => {
    const armKey = `${repository}:${"b".repeat(64)}`;
    const r = lvhPull([armKey, "--dir", path.join(work, "wrong"), "--platform", "linux/amd64"]);
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.include(`${armKey} is an image for linux/arm64/v8, not linux/amd64 as asked`);
    expect(fs.existsSync(path.join(work, "wrong", "images", "base.img"))).to.equal(false);
  });

  it("takes an artifact that says no platform for amd64", () => {
    const root = path.join(work, "bare", "root", "data", "images");
    fs.mkdirSync(root, { recursive: true });
    fs.copyFileSync(files.amd64, path.join(work, "bare", "base.img"));
    spawnSync("zstd", ["-q", "-f", "-o", path.join(root, "base.img.zst"), path.join(work, "bare", "base.img")]);
    const layer = path.join(work, "bare", "layer.tar");
    const ref = `${repository}:bare`;
    // No platform set: the config has no architecture.
    spawnSync("tar", ["-C", path.join(work, "bare", "root"), "-cf", layer, "data"]);
    craneSync(["append", "--oci-empty-base", "-f", layer, "-t", ref]);
    expect(JSON.parse(craneSync(["config", ref])).architecture ?? "").to.equal("");
    const amd = lvhPull([ref, "--dir", path.join(work, "bare-amd64"), "--platform", "linux/amd64"]);
    expect(amd.status, amd.stderr).to.equal(0);
    const arm = lvhPull([ref, "--dir", path.join(work, "bare-arm64"), "--platform", "arm64"]);
    expect(arm.status).to.not.equal(0);
    expect(arm.stderr).to.include(`${ref} is an image for linux/amd64, not linux/arm64 as asked`);
  });
});
