// Overlays in the registry, with the real qemu-img, crane, zstd and registry
// (no mmdebstrap: the images are small file systems made by mke2fs and
// qemu-io writes). A chain of three (a raw parent, an overlay on it, an
// overlay on that) is written by the build's own code (ensureLayer,
// writeOverlay), published by an Image's publish (which looks the parent's
// artifact up), and pulled into empty directories: the parents come by
// digest, the content is the original's, --flatten gives a standalone file
// with the same content (the same bytes twice), a registry without the
// parent is named in the error, an altered layer is fetched again, a local
// copy without its layers is no copy, a sparse raw image is pulled sparse,
// and a parent pulled before its child is linked to its layer, not fetched
// again.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runPull } from "../../cli/lvhpull";
import { contentDigest } from "../../provider/builder/image/digest";
import { backingFileOf, chainPresent, layerState } from "../../provider/builder/image/layercheck";
import { ensureLayer, writeOverlay } from "../../provider/builder/image/layers";
import type { ImageOutputs } from "../../provider/builder/image/outputs";
import { publish, pullFromCache } from "../../provider/builder/image/registry";
import type { CheckedImageInputs } from "../../provider/model/check";
import { registrySession } from "../../provider/builder/oci/crane";
import { isLocalCopy, recordLocalCopy } from "../../provider/builder/oci/localcopy";
import { publishImage } from "../../provider/builder/oci/publish";
import { pullImages } from "../../provider/builder/oci/pull";
import { memoryLogger } from "../../provider/builder/run/log";
import { layerName } from "../../provider/model/layers";
import { contentTag } from "../../provider/model/oci";
import { craneSync, TestRegistry } from "../support/registry";

describe("integration: overlays published as deltas, pulled as chains", function () {
  this.timeout(10 * 60_000);
  let reg: TestRegistry;
  let work: string;
  let src: string;
  let repository: string;
  const digests: Record<string, string> = {};
  const published: Record<string, string> = {};
  const key = (c: string) => c.repeat(64);
  const keys: Record<string, string> = { "base.img": key("a"), "mid.qcow2": key("b"), "top.qcow2": key("c") };
  // Published under another key than its child names: the child finds it by its content tag.
  const midPublishedAs = key("e");
  const qemuImg = (...args: string[]) => execFileSync("qemu-img", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const ctx = () => ({ log: memoryLogger(), label: "test", session: registrySession() });
  const pull = async (dir: string, o: { ref?: string; flatten?: boolean } = {}) => {
    const c = ctx();
    try {
      const r = await pullImages({ ref: o.ref ?? `${repository}:${keys["top.qcow2"]}`, dir, flatten: o.flatten, ...c });
      return { ...r, lines: c.log.lines };
    } finally {
      c.session.close();
    }
  };
  const leftovers = (dir: string) => fs.readdirSync(dir).filter((f) => /^\.(pull|layer)-|\.(pin|part|flat|pulled)-/.test(f));

  /** A derived qcow2 image: its parent's content (through its chain), some writes, then made an overlay on the parent's layer. */
  const derive = async (name: string, parent: string, pattern: string, at: string) => {
    const file = path.join(src, name);
    qemuImg("convert", "-q", "-O", "qcow2", path.join(src, parent), file);
    execFileSync("qemu-io", ["-f", "qcow2", "-c", `write -P ${pattern} ${at} 256k`, file], { stdio: "ignore" });
    const log = memoryLogger();
    const layer = await ensureLayer({ dir: src, parentName: parent, parentPath: path.join(src, parent), digest: digests[parent], image: name, log });
    await writeOverlay(file, layer.name, { image: name, log, signal: new AbortController().signal });
    layer.unpin();
    expect(backingFileOf(file)).to.equal(layerName(parent, digests[parent]));
    digests[name] = await contentDigest(file);
  };

  /** Publish with an Image's own publish (registry.ts): the overlay's parent looked up, its facts annotated. Resolves with the artifact, or its error. */
  const publishOutputs = async (name: string, repo: string, parent?: string) => {
    const session = registrySession();
    try {
      const outs = {
        name, path: path.join(src, name), registry: repo, buildKey: name === "mid.qcow2" ? midPublishedAs : keys[name], digest: digests[name],
        parentBuildKey: parent ? keys[parent] : undefined, parentDigest: parent ? digests[parent] : undefined,
        suite: "bookworm", backend: "direct", logFile: path.join(work, `${name}.log`),
      } as unknown as ImageOutputs;
      const r = await publish(outs, session, undefined, memoryLogger());
      return { published: r.published, error: r.publishError };
    } finally {
      session.close();
    }
  };

  before(async () => {
    reg = await TestRegistry.start();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-overlaypull-"));
    repository = `${reg.host}/team/images`;
    src = path.join(work, "src");
    const tree = path.join(work, "tree");
    fs.mkdirSync(tree);
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(tree, "hello"), crypto.randomBytes(300_000));
    execFileSync("mke2fs", ["-q", "-F", "-t", "ext4", "-d", tree, path.join(src, "base.img"), "64M"], { stdio: "ignore" });
    digests["base.img"] = await contentDigest(path.join(src, "base.img"));
    await derive("mid.qcow2", "base.img", "0x5a", "8M");
    await derive("top.qcow2", "mid.qcow2", "0x33", "16M");
  });
  after(async () => {
    await reg?.dispose();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("refuses to publish an overlay before its parent", async () => {
    const r = await publishOutputs("mid.qcow2", `${reg.host}/team/orphans`, "base.img");
    expect(r.published).to.equal(undefined);
    expect(r.error).to.match(/mid\.qcow2 is an overlay on base\.img at sha256:[0-9a-f]{64}, which is not in .*team\/orphans.*its parent is published first/);
  });

  it("publishes each overlay as its delta, naming its parent's artifact and layer, and tags every image by content digest", async () => {
    published["base.img"] = (await publishOutputs("base.img", repository)).published!;
    published["mid.qcow2"] = (await publishOutputs("mid.qcow2", repository, "base.img")).published!;
    // Its parent's build key tag is not there: found by its content tag.
    published["top.qcow2"] = (await publishOutputs("top.qcow2", repository, "mid.qcow2")).published!;
    for (const name of Object.keys(published)) {
      expect(`${repository}@${craneSync(["digest", `${repository}:${contentTag(digests[name])}`])}`).to.equal(published[name]);
    }
    const annotations = JSON.parse(craneSync(["manifest", published["top.qcow2"]])).annotations;
    expect(annotations).to.include({
      "io.github.pulumi-vm-images.parent-artifact": published["mid.qcow2"],
      "io.github.pulumi-vm-images.backing-file": layerName("mid.qcow2", digests["mid.qcow2"]),
      "io.github.pulumi-vm-images.content-digest": digests["top.qcow2"],
    });
    // The delta only: far smaller than its parent's file system.
    const size = (ref: string) => JSON.parse(craneSync(["manifest", ref])).layers[0].size as number;
    expect(size(published["top.qcow2"])).to.be.below(size(published["base.img"]) / 2);
  });

  it("pulls an overlay into an empty directory with its chain, each parent fetched by digest: the content is the original's", async () => {
    const dir = path.join(work, "pulled");
    const r = await pull(dir);
    const file = path.join(dir, "top.qcow2");
    expect(r.files.map((f) => f.path)).to.deep.equal([file]);
    expect(await contentDigest(file)).to.equal(digests["top.qcow2"]);
    const midLayer = layerName("mid.qcow2", digests["mid.qcow2"]);
    const baseLayer = layerName("base.img", digests["base.img"]);
    expect(backingFileOf(file)).to.equal(midLayer);
    expect(backingFileOf(path.join(dir, midLayer))).to.equal(baseLayer);
    for (const layer of [midLayer, baseLayer]) {
      expect(fs.existsSync(path.join(dir, `${layer}.verified`)), layer).to.equal(true);
      expect(await layerState(path.join(dir, layer))).to.equal("ok");
    }
    expect(r.lines.join("\n")).to.include(`parent layer ${midLayer}: pulled ${published["mid.qcow2"]}`);
    expect(qemuImg("compare", file, path.join(src, "top.qcow2"))).to.include("Images are identical");
    expect(leftovers(dir)).to.deep.equal([]);
  });

  it("pulls a sparse raw image sparse: its holes stay holes, its bytes are the same", async () => {
    const dir = path.join(work, "sparse");
    await pull(dir, { ref: published["base.img"] });
    const allocated = (f: string) => fs.statSync(f).blocks * 512;
    const original = path.join(src, "base.img");
    const pulled = path.join(dir, "base.img");
    expect(fs.statSync(pulled).size).to.equal(fs.statSync(original).size);
    // Decompressed whole, it would take its 64 MiB.
    expect(allocated(original)).to.be.below(fs.statSync(original).size / 4);
    expect(allocated(pulled)).to.be.at.most(allocated(original) + 2 ** 20);
    expect(await contentDigest(pulled)).to.equal(digests["base.img"]);
    execFileSync("cmp", [original, pulled]);
  });

  it("links a parent pulled before its child to the layer the child reads: each artifact fetched once", async () => {
    const dir = path.join(work, "forest");
    const lines: string[] = [];
    for (const name of ["base.img", "mid.qcow2", "top.qcow2"]) lines.push(...(await pull(dir, { ref: published[name] })).lines);
    const text = lines.join("\n");
    expect(text).not.to.match(/parent layer .*: pulled/);
    const ino = (f: string) => fs.statSync(path.join(dir, f)).ino;
    for (const parent of ["base.img", "mid.qcow2"]) {
      const layer = layerName(parent, digests[parent]);
      expect(text).to.include(`parent layer ${layer}: linked from ${path.join(dir, parent)}`);
      expect(ino(layer), layer).to.equal(ino(parent));
      expect(await layerState(path.join(dir, layer))).to.equal("ok");
    }
    expect(qemuImg("compare", path.join(dir, "top.qcow2"), path.join(src, "top.qcow2"))).to.include("Images are identical");
    expect(leftovers(dir)).to.deep.equal([]);
  });

  it("an Image's copy from the registry cache links its parent's file beside it too", async () => {
    const dir = path.join(work, "imageforest");
    fs.mkdirSync(dir);
    await pull(dir, { ref: published["base.img"] });
    const inputs = { name: "mid.qcow2", dir, registry: repository, buildKey: midPublishedAs, localCopies: true } as unknown as CheckedImageInputs;
    const session = registrySession();
    const outs = await pullFromCache(inputs, session, new AbortController().signal).finally(() => session.close());
    expect(outs?.digest).to.equal(digests["mid.qcow2"]);
    const layer = layerName("base.img", digests["base.img"]);
    const log = fs.readFileSync(path.join(dir, "mid.qcow2.log"), "utf8");
    expect(log).to.include(`parent layer ${layer}: linked from ${path.join(dir, "base.img")}`);
    expect(log).not.to.match(/parent layer .*: pulled/);
    expect(fs.statSync(path.join(dir, layer)).ino).to.equal(fs.statSync(path.join(dir, "base.img")).ino);
  });

  it("fetches the layer when the parent's file beside it holds other bytes", async () => {
    const dir = path.join(work, "otherparent");
    fs.mkdirSync(dir);
    const other = path.join(dir, "base.img");
    fs.writeFileSync(other, "another base.img");
    const r = await pull(dir, { ref: published["mid.qcow2"] });
    const text = r.lines.join("\n");
    const layer = path.join(dir, layerName("base.img", digests["base.img"]));
    expect(text).to.match(new RegExp(`${other.replace(/[.]/g, "\\.")} holds sha256:[0-9a-f]{64}, not the layer's ${digests["base.img"]}: the layer is fetched`));
    expect(text).to.include(`parent layer ${path.basename(layer)}: pulled ${published["base.img"]}`);
    expect(fs.statSync(layer).ino).not.to.equal(fs.statSync(other).ino);
    expect(fs.readFileSync(other, "utf8")).to.equal("another base.img");
    expect(await layerState(layer)).to.equal("ok");
    expect(leftovers(dir)).to.deep.equal([]);
  });

  it("fetches a layer again that does not hold its digest any more", async () => {
    const dir = path.join(work, "pulled");
    const baseLayer = path.join(dir, layerName("base.img", digests["base.img"]));
    const fd = fs.openSync(baseLayer, "r+");
    fs.writeSync(fd, Buffer.from("altered"), 0, 7, 4096);
    fs.closeSync(fd);
    expect(await layerState(baseLayer)).to.have.property("holds");
    const r = await pull(dir);
    expect(r.lines.join("\n")).to.match(/is altered \(it holds sha256:[0-9a-f]{64}, its name says sha256:[0-9a-f]{64}\): fetched again/);
    expect(await layerState(baseLayer)).to.equal("ok");
    expect(qemuImg("compare", path.join(dir, "top.qcow2"), path.join(src, "top.qcow2"))).to.include("Images are identical");
  });

  it("--flatten: a standalone file with the same content, the same bytes each time, and no layers left", async () => {
    const dir = path.join(work, "flat");
    const r = await pull(dir, { flatten: true });
    const file = path.join(dir, "top.qcow2");
    expect(backingFileOf(file)).to.equal(undefined);
    expect(r.files[0].publishedDigest).to.equal(digests["top.qcow2"]);
    expect(qemuImg("compare", file, path.join(src, "top.qcow2"))).to.include("Images are identical");
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("."))).to.deep.equal([]);
    // The CLI's --flatten, into another directory: the same bytes.
    await runPull({ command: "pull", ref: `${repository}:${keys["top.qcow2"]}`, dir: "lvh", cache: false, flatten: true, insecure: false }, work);
    const again = path.join(work, "lvh", "images", "top.qcow2");
    expect(await contentDigest(again)).to.equal(await contentDigest(file));
    expect(fs.readdirSync(path.dirname(again))).to.deep.equal(["top.qcow2"]);
  });

  it("an Image's copy from the registry cache, flattened: its digest output stays the published image's", async () => {
    const dir = path.join(work, "cache");
    // An Image's create makes its directory first.
    fs.mkdirSync(dir);
    const inputs = { name: "top.qcow2", dir, registry: repository, buildKey: keys["top.qcow2"], localCopies: true, flatten: true } as unknown as CheckedImageInputs;
    const session = registrySession();
    const outs = await pullFromCache(inputs, session, new AbortController().signal).finally(() => session.close());
    expect(outs?.source).to.equal(`pulled ${published["top.qcow2"]}`);
    expect(outs?.digest).to.equal(digests["top.qcow2"]);
    expect(backingFileOf(outs!.path)).to.equal(undefined);
    expect(isLocalCopy(outs!.path, published["top.qcow2"])).to.equal(true);
    expect(qemuImg("compare", outs!.path, path.join(src, "top.qcow2"))).to.include("Images are identical");
  });

  it("says which parent a registry lacks, and writes no image", async () => {
    const partial = `${reg.host}/team/partial`;
    craneSync(["copy", published["top.qcow2"], `${partial}:top`]);
    const dir = path.join(work, "partial");
    const error = await pull(dir, { ref: `${partial}:top` }).catch((e: Error) => e);
    const message = (error as Error).message;
    expect(message).to.include(`top.qcow2: its parent mid.qcow2 at ${digests["mid.qcow2"]} (the layer ${layerName("mid.qcow2", digests["mid.qcow2"])}) is not in ${partial}`);
    expect(message).to.include(`${partial}:${contentTag(digests["mid.qcow2"])} is not there`);
    expect(fs.existsSync(path.join(dir, "top.qcow2"))).to.equal(false);
    expect(leftovers(dir)).to.deep.equal([]);
  });

  it("counts a local copy whose parent layer is gone as no copy: it is fetched again, whole", async () => {
    const dir = path.join(work, "copy");
    const r = await pull(dir);
    const file = r.files[0].path;
    recordLocalCopy(file, r.pinned);
    expect(isLocalCopy(file, r.pinned)).to.equal(true);
    fs.rmSync(path.join(dir, layerName("base.img", digests["base.img"])));
    expect(chainPresent(file)).to.equal(false);
    expect(isLocalCopy(file, r.pinned)).to.equal(false);
    const again = await pull(dir);
    recordLocalCopy(file, again.pinned);
    expect(isLocalCopy(file, again.pinned)).to.equal(true);
  });

  it("refuses an image whose backing file is not a layer name", async () => {
    const odd = path.join(src, "odd.qcow2");
    qemuImg("create", "-q", "-f", "qcow2", "-b", "base.img", "-F", "raw", odd);
    const c = ctx();
    const ref = await publishImage({
      file: odd, repository: `${reg.host}/team/odd`, ...c,
      facts: { name: "odd.qcow2", buildKey: key("d"), suite: "bookworm", backend: "direct", created: "2026-01-01T00:00:00.000Z" },
    }).finally(() => c.session.close());
    const dir = path.join(work, "odd");
    const error = await pull(dir, { ref }).catch((e: Error) => e);
    expect((error as Error).message).to.match(/odd\.qcow2: its backing file "base\.img" is not a layer name .*refused/);
    expect(fs.existsSync(path.join(dir, "odd.qcow2"))).to.equal(false);
  });
});
