// A stack built by the Pulumi CLI and SDK 3.248.0 on Node.js 20, the
// versions before the move to Node.js 24 and a current Pulumi, kept as a
// fixture (test/fixtures/state-v3.248.0: the file backend's checkpoint as the
// old CLI wrote it). Its machine facts are placeholders filled in here: the
// project's path, and each image file's inode and mtime, which only a file
// made here can have; the file is made at the recorded size, so the state's
// file identity holds. The new CLI, SDK and Node.js then load it, preview
// the rebuild its images get from the newer pipeline and nothing else,
// rebuild them on `up`, and write it in their own version.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PIPELINE_VERSION } from "../../provider/model/buildkey";
import { toolchain } from "../support/toolchain";
import { opsByName, REPO, TestProject } from "./harness";

const FIXTURE = path.join(REPO, "test", "fixtures", "state-v3.248.0");
const STACK = "compat";
const CHECKPOINT = path.join(".pulumi", "stacks", "vm-images", `${STACK}.json`);
/** The pipeline version the fixture's build keys were computed with. */
const FIXTURE_PIPELINE_VERSION = 2;

interface Checkpoint {
  checkpoint: {
    latest: {
      manifest: { version: string };
      resources: { type: string; outputs?: { name?: string; path?: string; identity?: { size: number } } }[];
    };
  };
}

interface ImageFile {
  name: string;
  path: string;
  size: number;
}

/** The image files the fixture's state records, at their recorded sizes (paths still with placeholders). */
function recordedImages(text: string): ImageFile[] {
  const state = JSON.parse(text) as Checkpoint;
  return state.checkpoint.latest.resources
    .filter((r) => r.type === "pulumi-nodejs:dynamic/vm-images:Image")
    .map((r) => ({ name: r.outputs!.name!, path: r.outputs!.path!, size: r.outputs!.identity!.size }));
}

/** Restores the fixture into `dir`: project files, image files and the filled-in state. */
function restore(dir: string): void {
  for (const file of ["Pulumi.yaml"]) fs.copyFileSync(path.join(REPO, file), path.join(dir, file));
  for (const file of [`Pulumi.${STACK}.yaml`, "images.json"]) fs.copyFileSync(path.join(FIXTURE, file), path.join(dir, file));
  for (const link of ["node_modules", "dist", "package.json"]) fs.symlinkSync(path.join(REPO, link), path.join(dir, link));

  let text = fs.readFileSync(path.join(FIXTURE, CHECKPOINT), "utf8");
  text = text.replaceAll("{{PROJECT}}", dir).replaceAll("{{REPO_FROM_PROJECT}}", path.relative(dir, REPO));
  for (const image of recordedImages(text)) {
    fs.mkdirSync(path.dirname(image.path), { recursive: true });
    fs.writeFileSync(image.path, "");
    fs.truncateSync(image.path, image.size);
    const st = fs.statSync(image.path);
    text = text.replace(`"{{ino:${image.name}}}"`, JSON.stringify(st.ino)).replace(`"{{mtimeMs:${image.name}}}"`, JSON.stringify(st.mtimeMs));
  }
  expect(text, "every placeholder is filled in").to.not.include("{{");
  fs.mkdirSync(path.join(dir, ".state", path.dirname(CHECKPOINT)), { recursive: true });
  fs.copyFileSync(path.join(FIXTURE, ".pulumi", "meta.yaml"), path.join(dir, ".state", ".pulumi", "meta.yaml"));
  fs.writeFileSync(path.join(dir, ".state", CHECKPOINT), text);
}

describe("e2e: a stack built by the Pulumi CLI and SDK 3.248.0 on Node.js 20", function () {
  this.timeout(15 * 60 * 1000);
  let dir: string;
  let project: TestProject;
  let images: ImageFile[];
  const identities = () => images.map((i) => fs.statSync(i.path)).map((st) => [st.ino, st.size, st.mtimeMs]);
  const checkpoint = () => JSON.parse(fs.readFileSync(path.join(dir, ".state", CHECKPOINT), "utf8")) as Checkpoint;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-oldstate-"));
    restore(dir);
    images = recordedImages(fs.readFileSync(path.join(dir, ".state", CHECKPOINT), "utf8"));
    // The stack was made with the local default passphrase.
    project = TestProject.existing(dir, STACK, { PULUMI_CONFIG_PASSPHRASE: undefined, PULUMI_CONFIG_PASSPHRASE_FILE: undefined });
  });
  after(async () => {
    await project?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("was written by the CLI 3.248.0, with a root image and one derived from it", () => {
    expect(checkpoint().checkpoint.latest.manifest.version).to.equal("v3.248.0");
    expect(images.map((i) => [i.name, path.relative(dir, i.path)])).to.deep.equal([
      ["base.img", path.join("images", "base.img")],
      ["child.qcow2", path.join("images", "child.qcow2")],
    ]);
  });

  it("is loaded by the CLI and SDK of today, whose preview rebuilds its images for the new pipeline only", async () => {
    expect((await project.must("version")).stdout.trim()).to.equal(toolchain.PULUMI_VERSION);
    const sdk = JSON.parse(fs.readFileSync(path.join(REPO, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as { version: string };
    expect(`v${sdk.version}`).to.equal(toolchain.PULUMI_VERSION);
    // A new pipeline version rebuilds images built before it, by design (3: reproducible images).
    expect(PIPELINE_VERSION).to.be.greaterThan(FIXTURE_PIPELINE_VERSION);

    const preview = await project.preview();
    expect(opsByName(preview, "Image")).to.deep.equal({ "base.img": "replace", "child.qcow2": "replace" });
    const base = preview.steps.find((s) => s.urn.endsWith("::base.img") && s.op === "replace");
    expect(JSON.stringify(base)).to.include("build pipeline changed");
    expect(preview.steps.filter((s) => s.op !== "same" && s.op !== "replace")).to.deep.equal([]);
    expect((preview.diagnostics ?? []).filter((d) => d.severity === "error" || d.severity === "warning")).to.deep.equal([]);
  });

  it("rebuilds them on up, is then written by the new CLI, and previews no changes after", async () => {
    const before = identities();
    await project.up();
    await project.must("refresh", "--stack", STACK, "--yes", "--skip-preview");
    expect(identities()).to.not.deep.equal(before);
    expect(checkpoint().checkpoint.latest.manifest.version).to.equal(toolchain.PULUMI_VERSION);
    const preview = await project.preview();
    expect(preview.changeSummary).to.deep.equal({ same: 4 });
  });
});
