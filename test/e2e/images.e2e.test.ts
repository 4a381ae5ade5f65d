// The root program builds an lvh images.json forest through the real Pulumi
// CLI and the real guestfs pipeline, and rebuilds exactly what changed.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { opsByName, REPO, TestProject } from "./harness";

interface ImageOut {
  path: string;
  format: string;
  sizeBytes: number;
  buildKey: string;
  backend: string;
  parent?: string;
}

/** A forest shaped like the seed's example, with small packages so it stays quick under TCG. */
function forest(childPackages: string[], parentCmd = "passwd -d root") {
  return [
    {
      name: "base.img",
      image_size: "2G",
      bootable: false,
      packages: ["less"],
      actions: [{ comment: "disable password for root", type: "run-command", op: { Cmd: parentCmd } }],
    },
    { name: "child.qcow2", parent: "base.img", packages: childPackages },
  ];
}

describe("e2e: an lvh images.json forest through the real pulumi CLI (guestfs)", function () {
  this.timeout(40 * 60_000);
  let project: TestProject;
  let dir: string;
  const writeForest = (f: unknown) => fs.writeFileSync(path.join(project.dir, "images.json"), JSON.stringify(f, null, 2));
  const images = async () => (await project.outputs()).images as Record<string, ImageOut>;

  before(async () => {
    project = await TestProject.create({ program: `module.exports = require(${JSON.stringify(path.join(REPO, "dist", "index.js"))});\n` });
    dir = path.join(project.dir, "images");
    writeForest(forest(["jq"]));
    await project.setConfig("imagesFile", "images.json");
    await project.setConfig("dir", "images");
    await project.setConfig("backend", "guestfs");
  });
  after(async () => project?.dispose());

  let first: Record<string, ImageOut>;

  it("previews one create per image, building nothing", async () => {
    const preview = await project.preview();
    expect(opsByName(preview, "Image")).to.deep.equal({ "base.img": "create", "child.qcow2": "create" });
    expect(fs.existsSync(dir)).to.equal(false);
  });

  it("builds the forest on up", async () => {
    await project.up();
    first = await images();
    expect(first["base.img"]).to.include({ path: path.join(dir, "base.img"), format: "raw", backend: "guestfs" });
    expect(first["child.qcow2"]).to.include({ path: path.join(dir, "child.qcow2"), format: "qcow2", parent: "base.img" });
    expect(first["base.img"].buildKey).to.match(/^[0-9a-f]{64}$/);
    for (const img of Object.values(first)) expect(fs.statSync(img.path).size).to.equal(img.sizeBytes);
    expect(fs.existsSync(path.join(dir, "child.qcow2.log"))).to.equal(true);
  });

  it("does nothing on a second up", async () => {
    const preview = await project.preview();
    expect(opsByName(preview, "Image")).to.deep.equal({});
    await project.up("--expect-no-changes");
    expect(await images()).to.deep.equal(first);
  });

  it("replaces only the child when its packages change", async () => {
    writeForest(forest(["jq", "tree"]));
    const preview = await project.preview();
    expect(opsByName(preview, "Image")).to.deep.equal({ "child.qcow2": "replace" });
    await project.up();
    const now = await images();
    expect(now["base.img"]).to.deep.equal(first["base.img"]);
    expect(now["child.qcow2"].buildKey).not.to.equal(first["child.qcow2"].buildKey);
    first = now;
  });

  // The up that rebuilds a changed parent and its child runs with the direct
  // backend in lvh.e2e and digest.e2e; under TCG, guestfs would take minutes.
  it("previews both replaced when the parent changes", async () => {
    writeForest(forest(["jq", "tree"], "passwd -d root && echo changed > /etc/changed"));
    const preview = await project.preview();
    expect(opsByName(preview, "Image")).to.deep.equal({ "base.img": "replace", "child.qcow2": "replace" });
    writeForest(forest(["jq", "tree"]));
  });

  it("notices an image file deleted behind its back and rebuilds it", async () => {
    fs.rmSync(path.join(dir, "child.qcow2"));
    const preview = await project.preview();
    expect(opsByName(preview, "Image")).to.deep.equal({ "child.qcow2": "replace" });
    // refresh drops it from the state, so the next up creates it.
    await project.must("refresh", "--stack", project.stack, "--yes", "--skip-preview");
    const after = await project.preview();
    expect(opsByName(after, "Image")).to.deep.equal({ "child.qcow2": "create" });
  });

  it("removes the image files on destroy", async () => {
    await project.destroy();
    expect(fs.existsSync(path.join(dir, "base.img"))).to.equal(false);
    expect(fs.existsSync(path.join(dir, "child.qcow2"))).to.equal(false);
  });
});
