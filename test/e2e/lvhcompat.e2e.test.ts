// An images.json in the spellings lvh accepts, through the real CLI and the
// direct backend: an unknown field is a warning, null and "" mean unset, a
// pinned package version and a "+" size are built as lvh builds them, a link
// action makes several links, a root image carries nothing of the build host, an upload source that is a symbolic link is
// followed by the build key, and a parent rebuilt with an unchanged build
// key leaves its child alone, in the preview as in the update.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { opsByName, REPO, TestProject } from "./harness";

const FOREST = [
  {
    name: "base.img", image_size: "1GiB", bootable: false, parent: "", pacakges: ["ignored"],
    packages: ["tree=2.1.0-1"],
    actions: [
      { comment: null, type: "upload", op: { File: "run.sh", Dest: "/root/run.sh" } },
      { type: "link", op: { Target: "/usr/bin/tree", Link: "/usr/local/bin/t1:/usr/local/bin/t2" } },
    ],
  },
  { name: "child.img", parent: "base.img", image_size: "+512M", packages: null, bootable: null, actions: null },
];

/** Run debugfs on a raw image without a partition table; its output. */
const debugfs = (image: string, request: string) =>
  execFileSync("debugfs", ["-R", request, image], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("e2e: lvh's spellings, built as lvh builds them (direct)", function () {
  this.timeout(30 * 60_000);
  let project: TestProject;
  const file = (name: string) => path.join(project.dir, "images", name);
  const inode = (name: string) => fs.statSync(file(name)).ino;

  before(async () => {
    project = await TestProject.create({
      program: `module.exports = require(${JSON.stringify(path.join(REPO, "dist", "index.js"))});\n`,
      files: { "images.json": JSON.stringify(FOREST, null, 2), "scripts/real.sh": "echo one\n" },
    });
    fs.symlinkSync("scripts/real.sh", path.join(project.dir, "run.sh"));
    await project.setConfig("imagesFile", "images.json");
    await project.setConfig("dir", "images");
    await project.setConfig("backend", "direct");
  });
  after(async () => project?.dispose());

  it("previews both images, warning about the field lvh ignores, with the pinned package in the checked inputs", async () => {
    const r = await project.must("preview", "--stack", project.stack, "--json");
    const preview = JSON.parse(r.stdout) as {
      steps: { urn: string; op: string; newState?: { inputs?: Record<string, unknown> } }[];
      diagnostics?: { message: string; severity: string }[];
    };
    const warnings = (preview.diagnostics ?? []).filter((d) => d.severity === "warning").map((d) => d.message);
    expect(warnings.join("\n")).to.match(/image "base\.img": "pacakges" is not a field lvh knows; ignored, as lvh ignores it \(did you mean "packages"\?\)/);
    const base = preview.steps.find((s) => s.urn.endsWith("::base.img"))!;
    expect(base.op).to.equal("create");
    expect(base.newState!.inputs!.packages).to.deep.equal(["tree=2.1.0-1"]);
    expect(base.newState!.inputs!.buildKey).to.match(/^[0-9a-f]{64}$/);
    expect(fs.existsSync(path.join(project.dir, "images"))).to.equal(false);
  });

  it("builds the pinned version, both links, and grows the child by 512 MiB", async () => {
    await project.up();
    const admin = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-dpkg-"));
    try {
      fs.writeFileSync(path.join(admin, "status"), debugfs(file("child.img"), "cat /var/lib/dpkg/status"));
      const version = execFileSync("dpkg-query", [`--admindir=${admin}`, "-W", "-f", "${Version}", "tree"], { encoding: "utf8" });
      expect(version).to.equal("2.1.0-1");
    } finally {
      fs.rmSync(admin, { recursive: true, force: true });
    }
    for (const link of ["t1", "t2"]) expect(debugfs(file("base.img"), `stat /usr/local/bin/${link}`)).to.include('Fast link dest: "/usr/bin/tree"');
    expect(debugfs(file("base.img"), "cat /root/run.sh")).to.equal("echo one\n");
    // Nothing of the build host: not its hostname, not its resolv.conf.
    expect(debugfs(file("base.img"), "cat /etc/hostname")).to.equal("debian\n");
    expect(debugfs(file("base.img"), "cat /etc/resolv.conf")).to.equal("");
    expect(fs.statSync(file("base.img")).size).to.equal(2 ** 30);
    expect(fs.statSync(file("child.img")).size).to.equal(1.5 * 2 ** 30);
    const blocks = execFileSync("dumpe2fs", ["-h", file("child.img")], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const count = Number(/Block count:\s+(\d+)/.exec(blocks)![1]) * Number(/Block size:\s+(\d+)/.exec(blocks)![1]);
    expect(count).to.equal(1.5 * 2 ** 30);
  });

  it("rebuilds a deleted parent to the same bytes, and leaves its child alone (the preview could not know the bytes)", async () => {
    const child = inode("child.img");
    fs.rmSync(file("base.img"));
    const preview = await project.preview();
    expect(opsByName(preview, "Image")).to.deep.equal({ "base.img": "replace", "child.img": "replace" });
    await project.up();
    expect(fs.existsSync(file("base.img"))).to.equal(true);
    expect(inode("child.img")).to.equal(child);
    expect(opsByName(await project.preview(), "Image")).to.deep.equal({});
  });

  it("replaces the image (and its child) when the target of its linked upload source is edited", async () => {
    fs.writeFileSync(path.join(project.dir, "scripts", "real.sh"), "echo two\n");
    const preview = await project.preview();
    expect(opsByName(preview, "Image")).to.deep.equal({ "base.img": "replace", "child.img": "replace" });
  });
});
