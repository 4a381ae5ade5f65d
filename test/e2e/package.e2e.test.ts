// The package as a library: `npm pack` gives a tarball that a separate
// TypeScript Pulumi program installs next to its own @pulumi/pulumi (one copy
// of the SDK: ours is a peer dependency), compiles against, and previews.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { opsByName, REPO, runCommand, TestProject } from "./harness";

const PROGRAM_TS = `
import { ImageForest, type ImageConfigInput } from "pulumi-vm-images";

const images: ImageConfigInput[] = [
  { name: "base.img", bootable: false, packages: ["curl"] },
  { name: "child.qcow2", parent: "base.img", actions: [{ type: "run-command", cmd: "true" }] },
];
const forest = new ImageForest("images", { images, dir: "images" });
export const buildKeys = Object.fromEntries(Object.entries(forest.images).map(([n, i]) => [n, i.buildKey]));
`;

describe("e2e: the packed package in a program of its own", function () {
  this.timeout(10 * 60 * 1000);
  let work: string;
  let project: TestProject;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-pack-"));
    const pack = await runCommand("npm", ["pack", "--json", "--pack-destination", work], { cwd: REPO, env: process.env });
    expect(pack.code, pack.stderr).to.equal(0);
    const tarball = path.join(work, (JSON.parse(pack.stdout) as { filename: string }[])[0].filename);
    project = await TestProject.create({
      program: "", // compiled from index.ts below
      files: { "index.ts": PROGRAM_TS },
      dependencies: { "pulumi-vm-images": `file:${tarball}`, "@pulumi/pulumi": "3.248.0" },
    });
    const tsc = await runCommand(process.execPath, [
      path.join(REPO, "node_modules", "typescript", "bin", "tsc"),
      "--strict", "--module", "commonjs", "--target", "ES2022", "--moduleResolution", "node", "--esModuleInterop",
      "--skipLibCheck", "--types", "node", "--typeRoots", path.join(REPO, "node_modules", "@types"), "index.ts",
    ], { cwd: project.dir, env: process.env });
    expect(tsc.code, `tsc: ${tsc.stdout}${tsc.stderr}`).to.equal(0);
  });
  after(async () => {
    await project?.dispose();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("ships the compiled library, its shell scripts and no tests", () => {
    const pkg = path.join(project.dir, "node_modules", "pulumi-vm-images");
    expect(fs.existsSync(path.join(pkg, "dist", "provider", "index.d.ts"))).to.equal(true);
    expect(fs.existsSync(path.join(pkg, "provider", "builder", "sh", "sandbox-run.sh"))).to.equal(true);
    expect(fs.existsSync(path.join(pkg, "provider", "actions", "sh", "upload.sh"))).to.equal(true);
    expect(fs.existsSync(path.join(pkg, "dist", "test"))).to.equal(false);
  });

  it("shares the program's one copy of @pulumi/pulumi", () => {
    expect(fs.existsSync(path.join(project.dir, "node_modules", "@pulumi", "pulumi", "package.json"))).to.equal(true);
    expect(fs.existsSync(path.join(project.dir, "node_modules", "pulumi-vm-images", "node_modules", "@pulumi"))).to.equal(false);
  });

  it("previews an ImageForest through the real CLI", async () => {
    const preview = await project.preview();
    expect(opsByName(preview, "Image")).to.deep.equal({ "base.img": "create", "child.qcow2": "create" });
    expect(opsByName(preview, "ImageForest")).to.deep.equal({ images: "create" });
  });
});
