// Content digests and early cutoff through the real pulumi CLI, with the
// direct backend and a small non-bootable forest: each image's `digest` is
// the sha256 of its file; a derived image is keyed by its parent's digest,
// so a parent rebuilt to the same bytes leaves its child alone in `up`,
// while `preview` (the parent's new bytes not known yet) lists the child
// with the reason that its parent's content may change.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PARENT_MAY_CHANGE } from "../../provider/model/diff";
import { imageUrn } from "../../provider/model/urns";
import { opsByName, REPO, TestProject } from "./harness";

interface ImageOut {
  path: string;
  buildKey: string;
  digest: string;
  source: string;
}

const PROGRAM = `module.exports = require(${JSON.stringify(path.join(REPO, "dist", "index.js"))});\n`;

/** A 1G non-bootable root (with extra actions) and a child that writes one line, in lvh's spelling. */
function forest(baseActions: unknown[] = []) {
  return [
    { name: "base.qcow2", image_size: "1G", bootable: false, packages: [], actions: baseActions },
    { name: "child.qcow2", parent: "base.qcow2", packages: [], actions: [{ type: "run-command", op: { Cmd: "echo child > /etc/child" } }] },
  ];
}
const NO_OP = [{ type: "run-command", op: { Cmd: "true" } }];

const sha256sum = (file: string) => `sha256:${execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0]}`;

describe("e2e: content digests and children keyed by their parent's bytes", function () {
  this.timeout(40 * 60_000);
  let project: TestProject;
  let imageCache: string;
  let first: Record<string, ImageOut>;
  const times: Record<string, number> = {};

  const write = (images: unknown) => fs.writeFileSync(path.join(project.dir, "images.json"), JSON.stringify(images, null, 2));
  const images = async () => (await project.outputs()).images as Record<string, ImageOut>;
  /** The child's state as the stack holds it, and its file's inode and mtime: untouched means all equal. */
  const childFacts = async () => {
    const child = (await images())["child.qcow2"];
    const st = fs.statSync(child.path);
    return { ...child, ino: st.ino, mtimeMs: st.mtimeMs };
  };
  const baseUrn = () => imageUrn(project.stack, "vm-images-e2e", "base.qcow2");
  const diffOf = async (...extra: string[]) => (await project.must("preview", "--stack", project.stack, "--diff", ...extra)).stdout;
  const timedUp = async (what: string, ...extra: string[]) => {
    const started = Date.now();
    const r = await project.up(...extra);
    times[what] = (Date.now() - started) / 1000;
    return r;
  };

  before(async () => {
    imageCache = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-built-"));
    project = await TestProject.create({
      program: PROGRAM,
      config: { imagesFile: "images.json", dir: "images", backend: "direct", verifyBoot: "false" },
      env: { VM_IMAGES_CACHE_MAX: "20G", VM_IMAGES_BUILT_CACHE_DIR: imageCache },
    });
    write(forest());
    await timedUp("first up (both built)");
    first = await images();
  });
  after(async () => {
    console.log(`      times: ${JSON.stringify(times)}`);
    await project?.dispose();
    if (imageCache) fs.rmSync(imageCache, { recursive: true, force: true });
  });

  it("gives each image's digest as the sha256 of its file, in the images and summary outputs", async () => {
    const summary = (await project.outputs()).summary as Record<string, { digest?: string }>;
    for (const [name, img] of Object.entries(first)) {
      expect(img.source, name).to.equal("built");
      expect(img.digest, name).to.match(/^sha256:[0-9a-f]{64}$/);
      expect(img.digest, name).to.equal(sha256sum(img.path));
      expect(summary[name].digest, name).to.equal(img.digest);
    }
  });

  it("previews a child of a changed parent as replaced, because its parent's content may change", async () => {
    write(forest(NO_OP));
    try {
      expect(opsByName(await project.preview(), "Image")).to.deep.equal({ "base.qcow2": "replace", "child.qcow2": "replace" });
      const diff = await diffOf();
      expect(diff).to.include(`"${PARENT_MAY_CHANGE}"`);
      expect(diff).to.include('"actions changed"');
    } finally {
      write(forest());
    }
  });

  it("up --replace of the parent, its file from the image cache (the same bytes): the child is left alone", async () => {
    expect(opsByName(await project.preview("--replace", baseUrn()), "Image")).to.deep.equal({ "base.qcow2": "replace", "child.qcow2": "replace" });
    expect(await diffOf("--replace", baseUrn())).to.include(`"${PARENT_MAY_CHANGE}"`);
    const before = await childFacts();
    await timedUp("up --replace base (from the image cache)", "--replace", baseUrn());
    const now = await images();
    expect(now["base.qcow2"].source).to.equal("image cache");
    expect(now["base.qcow2"].digest).to.equal(first["base.qcow2"].digest);
    expect(await childFacts()).to.deep.equal(before);
    expect(opsByName(await project.preview(), "Image")).to.deep.equal({});
  });

  it("an in-place update of the parent (mergeSteps): the preview cannot know its digest either, and up leaves the child's image alone", async () => {
    const before = await childFacts();
    await project.setConfig("mergeSteps", "false");
    try {
      const ops = opsByName(await project.preview(), "Image");
      expect(ops["base.qcow2"]).to.equal("update");
      expect(ops["child.qcow2"]).to.equal("replace");
      await project.up();
      expect(await childFacts()).to.deep.equal(before);
      expect((await images())["base.qcow2"].digest).to.equal(first["base.qcow2"].digest);
    } finally {
      await project.must("config", "rm", "--stack", project.stack, "vm-images:mergeSteps");
      await project.up();
    }
    expect(opsByName(await project.preview(), "Image")).to.deep.equal({});
  });

  // The two below hold once the direct backend's builds are byte-reproducible.
  it("up --replace of the parent with the image cache cleared rebuilds it to the same bytes: the child is left alone", async () => {
    for (const f of fs.readdirSync(imageCache)) fs.rmSync(path.join(imageCache, f), { recursive: true, force: true });
    const before = await childFacts();
    await timedUp("up --replace base (built again)", "--replace", baseUrn());
    const now = await images();
    expect(now["base.qcow2"].source).to.equal("built");
    expect(now["base.qcow2"].digest, "the parent's bytes").to.equal(first["base.qcow2"].digest);
    expect(await childFacts()).to.deep.equal(before);
  });

  it("a no-op run-command (true) added to the parent rebuilds the parent only", async () => {
    const before = await childFacts();
    write(forest(NO_OP));
    await timedUp("up with `true` added to base");
    const now = await images();
    expect(now["base.qcow2"].source).to.equal("built");
    expect(now["base.qcow2"].buildKey).not.to.equal(first["base.qcow2"].buildKey);
    expect(now["base.qcow2"].digest, "the parent's bytes").to.equal(first["base.qcow2"].digest);
    expect(await childFacts()).to.deep.equal(before);
  });
});
