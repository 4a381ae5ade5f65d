// lvh's `images build` flags, through `npm run lvh` and the real CLI, each
// doing what the table of docs/coming-from-lvh.md says: --dry-run previews and changes
// nothing, --image builds an image with what it derives from, --force-rebuild
// replaces it, --merge-steps and --pkg-repo are saved in the stack's config.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { type RunResult, TestProject } from "./harness";

const count = (text: string, what: string) => text.split(what).length - 1;

/** A small forest in lvh's own format: one root, two children. */
function forest(basePackages: string[]) {
  return [
    { name: "base.img", image_size: "1G", bootable: false, packages: basePackages },
    { name: "a.qcow2", parent: "base.img", actions: [{ type: "run-command", op: { Cmd: "echo a > /root/a" } }] },
    { name: "b.qcow2", parent: "base.img", actions: [{ type: "run-command", op: { Cmd: "echo b > /root/b" } }] },
  ];
}

describe("e2e: lvh's build flags through npm run lvh", function () {
  this.timeout(40 * 60_000);
  let project: TestProject;
  let data: string;
  let images: string;

  const lvh = async (...args: string[]): Promise<RunResult> => {
    const r = await project.script("dist/cli/lvh.js", "images", "build", "--cwd", project.dir, "--stack", "lvh", ...args);
    if (r.code !== 0) throw new Error(`lvh ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r;
  };
  const inode = (name: string) => fs.statSync(path.join(images, name)).ino;
  const stackConfig = () => fs.readFileSync(path.join(project.dir, "Pulumi.lvh.yaml"), "utf8");
  const writeForest = (f: unknown) => fs.writeFileSync(path.join(data, "images.json"), JSON.stringify(f, null, 2));

  before(async () => {
    project = await TestProject.fromRepo("dev");
    data = path.join(project.dir, "_data");
    images = path.join(data, "images");
    fs.mkdirSync(data);
    writeForest(forest([]));
  });
  after(async () => project?.dispose());

  it("--dry-run previews, with the pulumi command it runs, and builds and saves nothing", async () => {
    const r = await lvh("--dir", "_data", "--dry-run");
    expect(r.stdout).to.match(/^lvh: pulumi preview --diff --stack lvh --config-file \S+$/m);
    expect(count(r.stdout, "+ pulumi-nodejs:dynamic/vm-images:Image: (create)")).to.equal(3);
    expect(fs.existsSync(images)).to.equal(false);
    expect(stackConfig()).not.to.include("imagesFile");
  });

  it("--dry-run refuses an upload from outside the --dir directory, naming the image, the action and the path", async () => {
    const dir = path.join(project.dir, "_paths");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(project.dir, "outside.txt"), "not for the image\n");
    fs.writeFileSync(path.join(dir, "images.json"), JSON.stringify([
      { name: "base.img", actions: [{ type: "upload", op: { File: "../outside.txt", Dest: "/etc/x" } }] },
    ]));
    const r = await project.script("dist/cli/lvh.js", "images", "build", "--cwd", project.dir, "--stack", "lvh", "--dir", "_paths", "--dry-run");
    expect(r.code, r.stdout).not.to.equal(0);
    expect(`${r.stdout}\n${r.stderr}`).to.include(
      `image "base.img": actions[0] (upload).file: "../outside.txt" (${path.join(project.dir, "outside.txt")}) is outside ${dir}; ` +
        `move it under ${dir}, or add its directory to the hostPaths setting (vm-images:hostPaths)`,
    );
    expect(fs.existsSync(path.join(dir, "images"))).to.equal(false);
  });

  it("--image builds the image and what it derives from, not its siblings", async () => {
    const r = await lvh("--dir", "_data", "--image", "a.qcow2");
    expect(r.stdout).to.match(/^lvh: pulumi up --yes --stack lvh --target '?urn:pulumi:lvh::vm-images::\S+::a\.qcow2'? --target '?\S+::base\.img'? --target '?urn:pulumi:lvh::vm-images::vm-images:index:ImageForest::images'?$/m);
    expect(fs.existsSync(path.join(images, "base.img"))).to.equal(true);
    expect(fs.existsSync(path.join(images, "a.qcow2"))).to.equal(true);
    expect(fs.existsSync(path.join(images, "b.qcow2"))).to.equal(false);
    expect(stackConfig()).to.include("vm-images:imagesFile: _data/images.json");
  });

  it("--image on a changed parent rebuilds it and the images derived from it", async () => {
    await lvh();
    const before = { base: inode("base.img"), a: inode("a.qcow2"), b: inode("b.qcow2") };
    writeForest(forest(["jq"]));
    await lvh("--image", "base.img");
    expect(inode("base.img")).not.to.equal(before.base);
    expect(inode("a.qcow2")).not.to.equal(before.a);
    expect(inode("b.qcow2")).not.to.equal(before.b);
  });

  it("--force-rebuild --image replaces only that image, its inputs being unchanged", async () => {
    const before = { base: inode("base.img"), a: inode("a.qcow2"), b: inode("b.qcow2") };
    const r = await lvh("--force-rebuild", "--image", "a.qcow2");
    expect(r.stdout).to.match(/--replace '?urn:pulumi:lvh::vm-images::\S+::a\.qcow2'?/);
    expect(inode("a.qcow2")).not.to.equal(before.a);
    expect(inode("base.img")).to.equal(before.base);
    expect(inode("b.qcow2")).to.equal(before.b);
  });

  it("--merge-steps=false is saved in the stack's config and rebuilds nothing", async () => {
    const before = [inode("base.img"), inode("a.qcow2"), inode("b.qcow2")];
    await lvh("--merge-steps=false");
    expect(stackConfig()).to.match(/vm-images:mergeSteps: "?false"?/);
    expect([inode("base.img"), inode("a.qcow2"), inode("b.qcow2")]).to.deep.equal(before);
  });

  it("--pkg-repo with --dry-run shows every image replaced because the suite changed, and saves nothing", async () => {
    const r = await lvh("--pkg-repo", "trixie", "--dry-run");
    expect(count(r.stdout, "+-pulumi-nodejs:dynamic/vm-images:Image: (replace)")).to.equal(3);
    expect(r.stdout).to.include('"suite changed"');
    expect(stackConfig()).not.to.include("vm-images:suite");
  });

  it("--arch arm64 with --dry-run shows every image replaced because the architecture changed, and saves nothing", async () => {
    const r = await lvh("--arch", "arm64", "--dry-run");
    expect(count(r.stdout, "+-pulumi-nodejs:dynamic/vm-images:Image: (replace)")).to.equal(3);
    expect(r.stdout).to.include('"arch changed"');
    expect(stackConfig()).not.to.include("vm-images:arch");
  });

  it("--arch arm64 with --dir and no --stack previews a stack of its own, its images beside the amd64 ones", async () => {
    const r = await project.script("dist/cli/lvh.js", "images", "build", "--cwd", project.dir, "--dir", "_data", "--arch", "arm64", "--dry-run");
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^lvh: pulumi preview --diff --stack lvh-arm64 --config-file \S+$/m);
    expect(count(r.stdout, "+ pulumi-nodejs:dynamic/vm-images:Image: (create)")).to.equal(3);
    expect(r.stdout).to.include(path.join("_data", "images-arm64", "base.img"));
  });

  it("--pkg-repo is saved in the stack's config", async () => {
    const before = [inode("base.img"), inode("a.qcow2"), inode("b.qcow2")];
    await lvh("--pkg-repo", "bookworm");
    expect(stackConfig()).to.include("vm-images:suite: bookworm");
    expect([inode("base.img"), inode("a.qcow2"), inode("b.qcow2")]).to.deep.equal(before);
  });
});
