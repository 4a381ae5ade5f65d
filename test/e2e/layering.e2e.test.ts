// vm-images:layering through the real pulumi CLI, with the direct backend
// and a small non-bootable forest (a root, a child, a grandchild): turning
// overlays on replaces the derived qcow2 images only, for that reason; they
// become overlays on digest-named layers, with their sizes in the outputs
// and the summary; a parent's new bytes rebuild its children onto a new
// layer and the old one goes; destroy leaves no layer behind.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { backingFileOf } from "../../provider/builder/image/layercheck";
import { layerName, parseLayerName } from "../../provider/model/layers";
import { type ImageSummary, summaryTable } from "../../cli/summarytable";
import { opsByName, REPO, TestProject } from "./harness";

interface ImageOut {
  path: string;
  digest: string;
  allocatedBytes: number;
  virtualBytes: number;
  flatBytes?: number;
}

const PROGRAM = `module.exports = require(${JSON.stringify(path.join(REPO, "dist", "index.js"))});\n`;

function forest(childLine = "child") {
  return [
    { name: "base.img", image_size: "1G", bootable: false, packages: [], actions: [] },
    { name: "child.qcow2", parent: "base.img", packages: [], actions: [{ type: "run-command", op: { Cmd: `echo ${childLine} > /etc/child` } }] },
    { name: "leaf.qcow2", parent: "child.qcow2", packages: [], actions: [{ type: "run-command", op: { Cmd: "echo leaf > /etc/leaf" } }] },
  ];
}

describe("e2e: copy-on-write children (vm-images:layering)", function () {
  this.timeout(30 * 60_000);
  let project: TestProject;
  const write = (images: unknown) => fs.writeFileSync(path.join(project.dir, "images.json"), JSON.stringify(images, null, 2));
  const images = async () => (await project.outputs()).images as Record<string, ImageOut>;
  const layersIn = (dir: string) => fs.readdirSync(dir).filter((f) => parseLayerName(f)).sort();

  before(async () => {
    project = await TestProject.create({
      program: PROGRAM,
      config: { imagesFile: "images.json", dir: "images", backend: "direct", verifyBoot: "false" },
    });
    write(forest());
    await project.up();
  });
  after(async () => {
    await project?.dispose();
  });

  it("writes standalone files by default", async () => {
    for (const img of Object.values(await images())) expect(backingFileOf(img.path)).to.equal(undefined);
    expect(layersIn(path.join(project.dir, "images"))).to.deep.equal([]);
  });

  it("replaces only the derived qcow2 images when overlays are turned on, and writes them as overlays on their parents' layers", async () => {
    await project.setConfig("layering", "overlay");
    const preview = await project.preview();
    expect(opsByName(preview, "Image")).to.deep.equal({ "child.qcow2": "replace", "leaf.qcow2": "replace" });
    expect((await project.must("preview", "--stack", project.stack, "--diff")).stdout).to.include('"layering changed"');
    await project.up();
    const out = await images();
    // npm start's table says it as "N% of flat".
    const summary = (await project.outputs()).summary as Record<string, ImageSummary>;
    expect(summary["child.qcow2"].flatBytes).to.equal(out["child.qcow2"].flatBytes);
    expect(summaryTable(summary)).to.match(/child\.qcow2 .*% of flat/);
    const dir = path.join(project.dir, "images");
    expect(backingFileOf(out["child.qcow2"].path)).to.equal(layerName("base.img", out["base.img"].digest));
    expect(backingFileOf(out["leaf.qcow2"].path)).to.equal(layerName("child.qcow2", out["child.qcow2"].digest));
    expect(layersIn(dir)).to.deep.equal([layerName("base.img", out["base.img"].digest), layerName("child.qcow2", out["child.qcow2"].digest)].sort());
    for (const name of ["child.qcow2", "leaf.qcow2"]) {
      expect(out[name].virtualBytes, name).to.equal(2 ** 30);
      expect(out[name].flatBytes, name).to.be.greaterThan(out[name].allocatedBytes);
    }
    expect(opsByName(await project.preview(), "Image")).to.deep.equal({});
  });

  it("rebuilds a child onto its parent's new bytes, and removes the layer nothing reads any more", async () => {
    const before = await images();
    write(forest("changed"));
    await project.up();
    const out = await images();
    expect(out["child.qcow2"].digest).to.not.equal(before["child.qcow2"].digest);
    expect(backingFileOf(out["leaf.qcow2"].path)).to.equal(layerName("child.qcow2", out["child.qcow2"].digest));
    expect(layersIn(path.join(project.dir, "images"))).to.deep.equal(
      [layerName("base.img", out["base.img"].digest), layerName("child.qcow2", out["child.qcow2"].digest)].sort(),
    );
  });

  it("leaves no layer behind on destroy", async () => {
    await project.must("destroy", "--yes", "--stack", project.stack);
    const left = fs.readdirSync(path.join(project.dir, "images")).filter((f) => !f.endsWith(".log"));
    expect(left).to.deep.equal([]);
  });
});
