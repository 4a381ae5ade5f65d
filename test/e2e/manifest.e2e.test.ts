// The real Pulumi CLI drives a real dynamic resource of this package through
// create, a no-op update, a replace and destroy.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { toolchain } from "../support/toolchain";
import { opsByName, TestProject } from "./harness";

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { ImagesManifest } = require("pulumi-vm-images");
const config = new pulumi.Config("vm-images");
const m = new ImagesManifest("manifest", {
  dir: config.require("dir"),
  images: JSON.parse(config.require("images")),
});
exports.manifestPath = m.path;
exports.sha256 = m.sha256;
`;

describe("e2e: ImagesManifest through the real pulumi CLI", function () {
  this.timeout(10 * 60 * 1000);
  let project: TestProject;
  let dirA: string;
  let dirB: string;
  const images = [{ name: "base.img", packages: ["curl"] }];

  before(async () => {
    project = await TestProject.create({ program: PROGRAM });
    dirA = path.join(project.dir, "images-a");
    dirB = path.join(project.dir, "images-b");
    await project.setConfig("dir", dirA);
    await project.setConfig("images", JSON.stringify(images));
  });
  after(async () => project?.dispose());

  it("reports the CLI version it runs", async () => {
    const r = await project.must("version");
    expect(r.stdout.trim()).to.equal(toolchain.PULUMI_VERSION);
  });

  it("previews a create without writing anything", async () => {
    const preview = await project.preview();
    expect(opsByName(preview, "ImagesManifest")).to.deep.equal({ manifest: "create" });
    expect(fs.existsSync(path.join(dirA, "images.json"))).to.equal(false);
  });

  it("creates the manifest on up", async () => {
    await project.up();
    const outs = await project.outputs();
    expect(outs.manifestPath).to.equal(path.join(dirA, "images.json"));
    expect(JSON.parse(fs.readFileSync(path.join(dirA, "images.json"), "utf8"))).to.deep.equal(images);
  });

  it("changes nothing on a second up", async () => {
    const preview = await project.preview();
    // The engine lists no step for an unchanged custom resource.
    expect(opsByName(preview, "ImagesManifest")).to.deep.equal({});
    expect(preview.changeSummary).to.deep.equal({ same: 2 });
    await project.up("--expect-no-changes");
  });

  it("replaces the manifest when its directory changes", async () => {
    await project.setConfig("dir", dirB);
    const preview = await project.preview();
    expect(opsByName(preview, "ImagesManifest")).to.deep.equal({ manifest: "replace" });
    await project.up();
    expect(fs.existsSync(path.join(dirB, "images.json"))).to.equal(true);
    expect(fs.existsSync(path.join(dirA, "images.json"))).to.equal(false);
  });

  it("removes the manifest on destroy", async () => {
    await project.destroy();
    expect(fs.existsSync(path.join(dirB, "images.json"))).to.equal(false);
  });
});
