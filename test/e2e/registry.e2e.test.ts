// Registries through the real pulumi CLI, a real registry (Debian's
// docker-registry on 127.0.0.1) and the real crane, with tiny non-bootable
// images: a first stack builds and publishes; a second stack with the same
// images file builds nothing and gets byte-identical files; an edited child
// is built alone; a registry that is down leaves the build standing and the
// next up publishes without rebuilding; a stack pulls an lvh-images-shaped
// image as the parent of its own, and a moved tag replaces both.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { craneSync, publishLvhShaped, TestRegistry } from "../support/registry";
import { opsByName, REPO, type RunResult, TestProject } from "./harness";
import { forest, sameBytes, separateCache } from "../support/twostacks";

interface ImageOut {
  path: string;
  buildKey: string;
  digest?: string;
  source: string;
  published?: string;
  publishError?: string;
}

const PROGRAM = `module.exports = require(${JSON.stringify(path.join(REPO, "dist", "index.js"))});\n`;

const BUILD_TOOLS = /mmdebstrap|apt-get/;

describe("e2e: registries (publish, registry cache, pull)", function () {
  this.timeout(40 * 60_000);
  let reg: TestRegistry;
  let repo: string;
  let first: TestProject;
  let second: TestProject;
  let secondCache: string;
  const times: Record<string, number> = {};

  const images = async (p: TestProject) => (await p.outputs()).images as Record<string, ImageOut>;
  const writeForest = (p: TestProject, f: unknown) => fs.writeFileSync(path.join(p.dir, "images.json"), JSON.stringify(f, null, 2));
  const timedUp = async (p: TestProject, what: string): Promise<RunResult> => {
    const started = Date.now();
    const r = await p.up();
    times[what] = (Date.now() - started) / 1000;
    return r;
  };
  const logsOf = (p: TestProject) =>
    fs.readdirSync(path.join(p.dir, "images")).filter((f) => f.endsWith(".log")).map((f) => fs.readFileSync(path.join(p.dir, "images", f), "utf8")).join("\n");

  before(async () => {
    reg = await TestRegistry.start();
    repo = `${reg.host}/team/images`;
    secondCache = separateCache();
    const config = { imagesFile: "images.json", dir: "images", registry: repo };
    first = await TestProject.create({ program: PROGRAM, config });
    second = await TestProject.create({ program: PROGRAM, config: { ...config, tag: "main" }, env: { VM_IMAGES_CACHE_DIR: secondCache } });
    writeForest(first, forest("one"));
    writeForest(second, forest("one"));
  });
  after(async () => {
    console.log(`      times: ${JSON.stringify(times)}`);
    await first?.dispose();
    await second?.dispose();
    await reg?.dispose();
    if (secondCache) fs.rmSync(secondCache, { recursive: true, force: true });
  });

  let built: Record<string, ImageOut>;

  it("the first stack builds and publishes each image, tagged by its build key, with annotations", async () => {
    await timedUp(first, "first stack up (all built)");
    built = await images(first);
    for (const [name, img] of Object.entries(built)) {
      expect(img.source, name).to.equal("built");
      expect(img.published, name).to.match(new RegExp(`^${repo.replace(/\./g, "\\.")}@sha256:[0-9a-f]{64}$`));
      expect(`${repo}@${craneSync(["digest", `${repo}:${img.buildKey}`])}`).to.equal(img.published);
    }
    const manifest = JSON.parse(craneSync(["manifest", `${repo}:${built["child.qcow2"].buildKey}`]));
    expect(manifest.annotations).to.include({
      "org.opencontainers.image.title": "child.qcow2",
      "io.github.pulumi-vm-images.build-key": built["child.qcow2"].buildKey,
      "io.github.pulumi-vm-images.parent-build-key": built["base.qcow2"].buildKey,
      "io.github.pulumi-vm-images.content-digest": built["child.qcow2"].digest,
      "io.github.pulumi-vm-images.parent-content-digest": built["base.qcow2"].digest,
      "io.github.pulumi-vm-images.suite": "bookworm",
    });
    const config = JSON.parse(craneSync(["config", `${repo}:${built["child.qcow2"].buildKey}`]));
    expect(config.config.Cmd).to.deep.equal(["/bin/true"]);
  });

  it("the second stack (own images dir, cache and state) builds nothing: every image is pulled, byte-identical", async () => {
    const r = await timedUp(second, "second stack up (all pulled)");
    expect(r.stdout + r.stderr).not.to.match(BUILD_TOOLS);
    expect(logsOf(second)).not.to.match(BUILD_TOOLS);
    const pulled = await images(second);
    for (const [name, img] of Object.entries(pulled)) {
      expect(img.buildKey, name).to.equal(built[name].buildKey);
      expect(img.source, name).to.equal(`pulled ${built[name].published}`);
      // Hashed from the pulled file: the bytes the build made.
      expect(img.digest, name).to.equal(built[name].digest).and.to.match(/^sha256:[0-9a-f]{64}$/);
      expect(sameBytes(img.path, built[name].path), name).to.equal(true);
    }
    expect(r.stdout).to.include(`source: pulled ${built["base.qcow2"].published}`);
    expect(fs.existsSync(path.join(secondCache, "debs"))).to.equal(false);
    // Its vm-images:tag names the images it pulled, and nothing is left to do.
    for (const name of Object.keys(pulled)) expect(`${repo}@${craneSync(["digest", `${repo}:${name}-main`])}`).to.equal(built[name].published);
    expect(opsByName(await second.preview(), "Image")).to.deep.equal({});
  });

  it("editing only the child in the second stack builds only the child, from the pulled parent", async () => {
    writeForest(second, forest("two"));
    expect(opsByName(await second.preview(), "Image")).to.deep.equal({ "child.qcow2": "replace" });
    const before = await images(second);
    const r = await timedUp(second, "second stack up (child edited)");
    const now = await images(second);
    expect(now["base.qcow2"]).to.deep.equal(before["base.qcow2"]);
    expect(now["child.qcow2"].source).to.equal("built");
    expect(r.stdout).to.include("build key not in");
    expect(r.stdout + r.stderr).not.to.include("mmdebstrap");
    expect(now["child.qcow2"].published).to.match(/@sha256:/);
    expect(`${repo}@${craneSync(["digest", `${repo}:child.qcow2-main`])}`).to.equal(now["child.qcow2"].published);
  });

  it("the registry stopped mid-way (after the lookup, during the build): up still builds and says publishing failed; the next up publishes without rebuilding", async () => {
    writeForest(first, forest("three"));
    const log = path.join(first.dir, "images", "child.qcow2.log");
    const running = first.up();
    // The lookup (a miss) is done once the build has started: the new command is in the fresh log.
    const deadline = Date.now() + 5 * 60_000;
    while (!(fs.existsSync(log) && fs.readFileSync(log, "utf8").includes("echo three")) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await reg.stop();
    const r = await running;
    const down = await images(first);
    expect(down["child.qcow2"].source).to.equal("built");
    expect(r.stdout).to.include("build key not in");
    expect(down["child.qcow2"].published).to.equal(undefined);
    expect(down["child.qcow2"].publishError).to.include(`registry ${reg.host}`);
    expect(r.stdout).to.include("publishing failed");
    const ino = fs.statSync(down["child.qcow2"].path).ino;

    await reg.resume();
    expect(opsByName(await first.preview(), "Image")).to.deep.equal({ "child.qcow2": "update" });
    const again = await first.up();
    expect(again.stdout).not.to.include("building with");
    const up = await images(first);
    expect(fs.statSync(up["child.qcow2"].path).ino).to.equal(ino);
    expect(up["child.qcow2"].buildKey).to.equal(down["child.qcow2"].buildKey);
    expect(up["child.qcow2"].published).to.equal(`${repo}@${craneSync(["digest", `${repo}:${up["child.qcow2"].buildKey}`])}`);
    expect(up["child.qcow2"].publishError).to.equal(undefined);
  });

  describe("vm-images:pull: an lvh-images-shaped image as a parent", () => {
    let puller: TestProject;
    const ref = () => `${reg.host}/lvh/base:v1`;
    before(async () => {
      publishLvhShaped(ref(), [built["base.qcow2"].path]);
      puller = await TestProject.create({ program: PROGRAM, config: { imagesFile: "images.json", dir: "images", pull: ref() } });
      writeForest(puller, [forest("four")[1]]);
    });
    after(async () => puller?.dispose());

    it("pulls it first, and the image derived from it builds from it", async () => {
      const r = await puller.up();
      const out = await puller.outputs();
      const pulledBase = path.join(puller.dir, "images", "base.qcow2");
      expect(sameBytes(pulledBase, built["base.qcow2"].path)).to.equal(true);
      expect((out.pulled as Record<string, { images: string[] }>)[ref()].images).to.deep.equal(["base.qcow2"]);
      expect((out.images as Record<string, ImageOut>)["child.qcow2"].source).to.equal("built");
      expect(r.stdout.indexOf("source: pulled")).to.be.lessThan(r.stdout.indexOf("child.qcow2"));
    });

    it("a moved tag: preview replaces the pull, saying where the tag points now, and the image derived from it", async () => {
      const extra = path.join(puller.dir, "extra.img");
      fs.writeFileSync(extra, "another image\n");
      const moved = publishLvhShaped(ref(), [built["base.qcow2"].path, extra]);
      const preview = await puller.preview();
      expect(opsByName(preview, "PulledImage")).to.deep.equal({ [ref()]: "replace" });
      expect(opsByName(preview, "Image")).to.deep.equal({ "child.qcow2": "replace" });
      const diff = (await puller.must("preview", "--stack", puller.stack, "--diff")).stdout;
      expect(diff).to.include(`${ref()} now points to ${moved}`);
      expect(diff).to.include('"parent replaced"');

      // And up does it: the new files stay (the old pull's delete leaves files it did not pull), the child is rebuilt.
      const before = (await puller.outputs()).images as Record<string, ImageOut>;
      await puller.up();
      const out = await puller.outputs();
      expect((out.pulled as Record<string, { pinned: string; images: string[] }>)[ref()]).to.deep.equal({
        pinned: `${reg.host}/lvh/base@${moved}`, images: ["base.qcow2", "extra.img"],
      });
      expect(fs.readFileSync(path.join(puller.dir, "images", "extra.img"), "utf8")).to.equal("another image\n");
      expect(sameBytes(path.join(puller.dir, "images", "base.qcow2"), built["base.qcow2"].path)).to.equal(true);
      const child = (out.images as Record<string, ImageOut>)["child.qcow2"];
      expect(child.buildKey).not.to.equal(before["child.qcow2"].buildKey);
      expect(fs.existsSync(child.path)).to.equal(true);
    });
  });

  describe("with htpasswd authentication", () => {
    const password = "e2e-Pa55word-secret";
    let authReg: TestRegistry;
    let project: TestProject;
    let dockerConfig: string;
    before(async () => {
      authReg = await TestRegistry.start({ auth: { user: "ci", password } });
      dockerConfig = authReg.dockerConfig();
      publishLvhShaped(`${authReg.host}/lvh/base:v1`, [built["base.qcow2"].path], { ...process.env, DOCKER_CONFIG: dockerConfig });
      project = await TestProject.create({
        program: PROGRAM, env: { DOCKER_CONFIG: dockerConfig },
        config: { imagesFile: "images.json", dir: "images", pull: `${authReg.host}/lvh/base:v1` },
      });
      writeForest(project, []);
    });
    after(async () => {
      await project?.dispose();
      await authReg?.dispose();
      if (dockerConfig) fs.rmSync(dockerConfig, { recursive: true, force: true });
    });

    it("pulls with the Docker config's credentials, and no credential reaches the state or the output", async () => {
      const r = await project.up();
      expect(sameBytes(path.join(project.dir, "images", "base.qcow2"), built["base.qcow2"].path)).to.equal(true);
      const auth = Buffer.from(`ci:${password}`).toString("base64");
      const exported = await project.must("stack", "export", "--stack", project.stack, "--show-secrets");
      for (const text of [r.stdout, r.stderr, exported.stdout]) {
        expect(text).not.to.include(password);
        expect(text).not.to.include(auth);
      }
    });
  });
});
