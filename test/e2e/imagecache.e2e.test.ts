// The local image cache through the real pulumi CLI, with a real registry:
// local first, then the registry, then a build. A stack whose images are in
// this machine's cache takes them from there (nothing pulled, nothing
// built), a stack with an empty cache pulls them, and reverting an edit
// takes the file from the cache it joined when it was pulled.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TestRegistry } from "../support/registry";
import { forest, sameBytes } from "../support/twostacks";
import { REPO, TestProject } from "./harness";

interface ImageOut {
  path: string;
  source: string;
  buildKey: string;
  digest?: string;
  published?: string;
}

const PROGRAM = `module.exports = require(${JSON.stringify(path.join(REPO, "dist", "index.js"))});\n`;

describe("e2e: the image cache (local, then registry, then build)", function () {
  this.timeout(30 * 60_000);
  let reg: TestRegistry;
  const projects: TestProject[] = [];
  const dirs: string[] = [];

  const cacheEnv = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-built-"));
    dirs.push(dir);
    return { VM_IMAGES_CACHE_MAX: "20G", VM_IMAGES_BUILT_CACHE_DIR: dir };
  };
  const stack = async (env: Record<string, string>) => {
    const p = await TestProject.create({ program: PROGRAM, config: { imagesFile: "images.json", dir: "images", registry: `${reg.host}/team/cached` }, env });
    projects.push(p);
    fs.writeFileSync(path.join(p.dir, "images.json"), JSON.stringify(forest("one"), null, 2));
    return p;
  };
  const images = async (p: TestProject) => (await p.outputs()).images as Record<string, ImageOut>;
  const sources = async (p: TestProject) => Object.fromEntries(Object.entries(await images(p)).map(([n, i]) => [n, i.source]));

  before(async () => (reg = await TestRegistry.start()));
  after(async () => {
    for (const p of projects) await p.dispose();
    await reg?.dispose();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it("takes a second stack's images from this machine's cache before the registry, and pulls with an empty one", async () => {
    const shared = cacheEnv();
    const first = await stack(shared);
    await first.up();
    expect(await sources(first)).to.deep.equal({ "base.qcow2": "built", "child.qcow2": "built" });

    const second = await stack(shared);
    const up = await second.up();
    expect(await sources(second)).to.deep.equal({ "base.qcow2": "image cache", "child.qcow2": "image cache" });
    expect(up.stdout + up.stderr).to.match(/source: image cache \(build key [0-9a-f]{64}, sha256:[0-9a-f]{64}\)/);
    const [a, b] = [await images(first), await images(second)];
    for (const name of Object.keys(a)) {
      expect(sameBytes(a[name].path, b[name].path), name).to.equal(true);
      // The digest the entry was stored with.
      expect(b[name].digest, name).to.equal(a[name].digest).and.to.match(/^sha256:[0-9a-f]{64}$/);
      // The registry's artifact of the build key: nothing pushed again, the tag did not move.
      expect(b[name].published, name).to.equal(a[name].published).and.to.match(/@sha256:/);
    }

    const third = await stack(cacheEnv());
    await third.up();
    const pulled = await sources(third);
    for (const name of Object.keys(pulled)) expect(pulled[name], name).to.match(/^pulled .*@sha256:[0-9a-f]{64}$/);

    // An edit builds the child; its revert takes the pulled file back from the cache.
    fs.writeFileSync(path.join(third.dir, "images.json"), JSON.stringify(forest("two"), null, 2));
    await third.up();
    expect((await sources(third))["child.qcow2"]).to.equal("built");
    fs.writeFileSync(path.join(third.dir, "images.json"), JSON.stringify(forest("one"), null, 2));
    await third.up();
    expect(await sources(third)).to.deep.equal({ "base.qcow2": pulled["base.qcow2"], "child.qcow2": "image cache" });
    expect(sameBytes((await images(third))["child.qcow2"].path, a["child.qcow2"].path)).to.equal(true);
  });
});
