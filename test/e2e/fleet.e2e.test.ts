// A fleet of CI runners through the real pulumi CLI: a throw-away PostgreSQL
// cluster is the shared state (PULUMI_BACKEND_URL=postgres://...), Debian's
// docker-registry (with its access log on) is the home of every image, and
// two "runners" are two project directories with their own images
// directories and caches that share the stack. Tiny non-bootable images.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { TestPostgres } from "../support/postgres";
import { craneSync, TestRegistry } from "../support/registry";
import { opsByName, REPO, type RunResult, TestProject } from "./harness";
import { forest, sameBytes, separateCache } from "../support/twostacks";

interface ImageOut {
  path: string;
  buildKey: string;
  source: string;
  published?: string;
}

const PROGRAM = `module.exports = require(${JSON.stringify(path.join(REPO, "dist", "index.js"))});\n`;
const BUILD_TOOLS = /mmdebstrap|apt-get|building with/;
const LOCKED = /the stack is currently locked by \d+ lock\(s\)/;

describe("e2e: a fleet of runners (shared PostgreSQL state, the registry as the home of every image)", function () {
  this.timeout(40 * 60_000);
  let pg: TestPostgres;
  let reg: TestRegistry;
  let repo: string;
  let a: TestProject;
  let b: TestProject;
  const caches: string[] = [];
  const times: Record<string, number> = {};

  const images = async (p: TestProject) => (await p.outputs()).images as Record<string, ImageOut>;
  const writeForest = (p: TestProject, f: unknown) => fs.writeFileSync(path.join(p.dir, "images.json"), JSON.stringify(f, null, 2));
  const imageFile = (p: TestProject, name: string) => path.join(p.dir, "images", name);
  const timed = async (what: string, run: () => Promise<RunResult>): Promise<RunResult> => {
    const started = Date.now();
    const r = await run();
    times[what] = Math.round((Date.now() - started) / 100) / 10;
    return r;
  };
  /** The registry requests made while `run` runs. */
  const requestsDuring = async <T>(run: () => Promise<T>): Promise<[T, string[]]> => {
    const before = reg.requests().length;
    const r = await run();
    return [r, reg.requests().slice(before)];
  };
  const downloads = (requests: string[]) => requests.filter((r) => /^GET \/v2\/.*\/blobs\//.test(r));
  const writes = (requests: string[]) => requests.filter((r) => /^(PUT|POST|PATCH|DELETE) /.test(r));
  /** The Image resources in the state, by name, with their outputs (stack outputs are not changed by refresh). */
  const stateImages = async (p: TestProject) => {
    const exported = JSON.parse((await p.must("stack", "export", "--stack", p.stack)).stdout) as { deployment: { resources?: { urn: string; type: string; outputs?: ImageOut }[] } };
    return Object.fromEntries((exported.deployment.resources ?? []).filter((r) => r.type.endsWith(":Image")).map((r) => [r.urn.split("::").pop()!, r.outputs!.published]));
  };
  const changedOps = async (p: TestProject) => Object.entries(opsByName(await p.preview(), "Image")).filter(([, op]) => op !== "same");

  before(async () => {
    pg = await TestPostgres.start();
    reg = await TestRegistry.start({ accessLog: true });
    repo = `${reg.host}/team/images`;
    const config = { imagesFile: "images.json", dir: "images", registry: repo };
    caches.push(separateCache());
    // Runner A keeps the shared .deb cache of this machine's test runs; runner B starts with nothing.
    a = await TestProject.create({ program: PROGRAM, config, backendUrl: pg.url });
    b = await TestProject.create({
      program: PROGRAM, backendUrl: pg.url, joinStack: a, config: { localCopies: "false" },
      env: { VM_IMAGES_CACHE_DIR: caches[0], VM_IMAGES_WAIT_LOCK_INTERVAL_MS: "1000" },
    });
    writeForest(a, forest("one"));
    writeForest(b, forest("one"));
  });
  after(async () => {
    console.log(`      times (s): ${JSON.stringify(times)}`);
    await b?.dispose();
    await a?.dispose();
    await reg?.dispose();
    await pg?.dispose();
    for (const c of caches) fs.rmSync(c, { recursive: true, force: true });
  });

  let built: Record<string, ImageOut>;

  it("runner A's up builds the forest and publishes it; the state lives in PostgreSQL", async () => {
    await timed("A: cold up (builds all)", () => a.up());
    built = await images(a);
    for (const [name, img] of Object.entries(built)) {
      expect(img.source, name).to.equal("built");
      expect(img.published, name).to.equal(`${repo}@${craneSync(["digest", `${repo}:${img.buildKey}`])}`);
    }
    // The stack is in the database, not in a directory of either runner.
    expect(Number(pg.query("select count(*) from pulumi_state"))).to.be.greaterThan(0);
    expect(fs.readdirSync(path.join(a.dir, ".state"))).to.deep.equal([]);
  });

  it("runner B (no files, own cache, localCopies=false): up builds nothing and downloads nothing", async () => {
    expect(await changedOps(b)).to.deep.equal([]);
    const [r, requests] = await requestsDuring(() => timed("B: up, localCopies=false (no-op)", () => b.up("--expect-no-changes")));
    expect(r.stdout + r.stderr).not.to.match(BUILD_TOOLS);
    expect(r.stdout).not.to.include("local copy: pulled");
    expect(downloads(requests), "blob downloads").to.deep.equal([]);
    expect(writes(requests), "registry writes").to.deep.equal([]);
    // Manifest HEAD requests only (and the API version checks that precede them).
    expect(requests.filter((q) => q !== "GET /v2/"), "registry requests").to.satisfy((qs: string[]) => qs.length > 0 && qs.every((q) => /^HEAD \/v2\/team\/images\/manifests\/[0-9a-f]{64}$/.test(q)));
    for (const name of Object.keys(built)) expect(fs.existsSync(imageFile(b, name)), name).to.equal(false);
    const now = await images(b);
    for (const [name, img] of Object.entries(now)) {
      expect(img.published, name).to.equal(built[name].published);
      // Nothing changed: the state still names runner A's files, which B keeps no copy of.
      expect(img.path, name).to.equal(built[name].path);
    }
    expect(await changedOps(b)).to.deep.equal([]);
    expect(fs.existsSync(path.join(caches[0], "debs"))).to.equal(false);
  });

  it("a new stack of its own (localCopies=false) whose images are all in the registry: up creates them from the registry, downloading nothing", async () => {
    const cache = separateCache();
    caches.push(cache);
    const c = await TestProject.create({
      program: PROGRAM, config: { imagesFile: "images.json", dir: "images", registry: repo, localCopies: "false" }, env: { VM_IMAGES_CACHE_DIR: cache },
    });
    try {
      writeForest(c, forest("one"));
      const [r, requests] = await requestsDuring(() => c.up());
      expect(r.stdout + r.stderr).not.to.match(BUILD_TOOLS);
      expect(downloads(requests)).to.deep.equal([]);
      expect(writes(requests)).to.deep.equal([]);
      const made = await images(c);
      for (const [name, img] of Object.entries(made)) {
        expect(img.source, name).to.equal(`registry ${built[name].published}`);
        expect(img.published, name).to.equal(built[name].published);
        expect(fs.existsSync(imageFile(c, name)), name).to.equal(false);
      }
      expect(await changedOps(c)).to.deep.equal([]);
    } finally {
      await c.dispose();
    }
  });

  it("runner B with localCopies=true: up pulls the files, builds nothing, byte-identical to A's; a deleted copy is fetched again", async () => {
    await b.setConfig("localCopies", "true");
    const [r, requests] = await requestsDuring(() => timed("B: up, localCopies=true (pulls all)", () => b.up()));
    expect(r.stdout + r.stderr).not.to.match(BUILD_TOOLS);
    expect(downloads(requests).length).to.be.greaterThan(0);
    expect(writes(requests)).to.deep.equal([]);
    for (const name of Object.keys(built)) expect(sameBytes(imageFile(b, name), built[name].path), name).to.equal(true);
    expect(await changedOps(b)).to.deep.equal([]);

    fs.rmSync(imageFile(b, "base.qcow2"));
    // A preview cannot know the parent's digest before its update: the child is listed, and up leaves it alone.
    expect(await changedOps(b)).to.deep.equal([["base.qcow2", "update"], ["child.qcow2", "replace"]]);
    const again = await b.up();
    expect(again.stdout + again.stderr).not.to.match(BUILD_TOOLS);
    expect(again.stdout).to.include(`local copy: pulled ${built["base.qcow2"].published}`);
    expect(sameBytes(imageFile(b, "base.qcow2"), built["base.qcow2"].path)).to.equal(true);
  });

  it("runner B (no local copies) edits the child: only the child is built, from the pulled parent, and published; A's next up pulls only the new child", async () => {
    await b.setConfig("localCopies", "false");
    for (const name of Object.keys(built)) fs.rmSync(imageFile(b, name));
    writeForest(b, forest("two"));
    // The state has this runner's directory already, and it keeps no copies: only the child changes.
    expect(Object.fromEntries(await changedOps(b))).to.deep.equal({ "child.qcow2": "replace" });
    const r = await timed("B: up, child edited (child built, parent pulled)", () => b.up());
    expect(r.stdout).not.to.include("mmdebstrap");
    expect(r.stdout).to.include("build key not in");
    expect(r.stdout).to.include(`local copy: pulled ${built["base.qcow2"].published}`);
    const now = await images(b);
    expect(now["base.qcow2"].published).to.equal(built["base.qcow2"].published);
    expect(now["child.qcow2"].source).to.equal("built");
    expect(now["child.qcow2"].buildKey).not.to.equal(built["child.qcow2"].buildKey);
    expect(now["child.qcow2"].published).to.equal(`${repo}@${craneSync(["digest", `${repo}:${now["child.qcow2"].buildKey}`])}`);

    writeForest(a, forest("two"));
    const [ra, requests] = await requestsDuring(() => timed("A: up after B's edit (pulls the child)", () => a.up()));
    expect(ra.stdout + ra.stderr).not.to.match(BUILD_TOOLS);
    expect(ra.stdout).to.include(`local copy: pulled ${now["child.qcow2"].published}`);
    expect(ra.stdout).not.to.include(`local copy: pulled ${built["base.qcow2"].published}`);
    expect(writes(requests)).to.deep.equal([]);
    expect(sameBytes(imageFile(a, "child.qcow2"), imageFile(b, "child.qcow2"))).to.equal(true);
    expect(await changedOps(a)).to.deep.equal([]);
  });

  it("two ups on one stack at once: the second fails at once with the lock message and changes nothing; with --wait-lock it runs after the first, a no-op", async () => {
    writeForest(a, forest("three"));
    writeForest(b, forest("three"));
    const log = imageFile(a, "child.qcow2.log");
    const first = a.up();
    const deadline = Date.now() + 5 * 60_000;
    while (!(fs.existsSync(log) && fs.readFileSync(log, "utf8").includes("echo three")) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
    }
    const refused = await timed("B: up on the locked stack (refused)", () => b.run("up", "--stack", b.stack, "--yes", "--skip-preview"));
    expect(refused.code).not.to.equal(0);
    expect(refused.stdout + refused.stderr).to.match(LOCKED);
    expect(refused.stdout + refused.stderr).to.include("pulumi cancel");
    expect(times["B: up on the locked stack (refused)"]).to.be.lessThan(30);
    const waiting = b.up("--wait-lock=600");
    const [ra, rb] = await Promise.all([first, waiting]);
    expect(rb.stderr).to.include("waiting for it");
    expect(ra.stdout).to.include("build key not in");
    expect(rb.stdout + rb.stderr).not.to.match(BUILD_TOOLS);
    expect(rb.stdout).not.to.include("local copy: pulled");
    // Nothing lost: the state holds A's new child, published, and B's view of it.
    const now = await images(b);
    expect(now["child.qcow2"].published).to.equal(`${repo}@${craneSync(["digest", `${repo}:${now["child.qcow2"].buildKey}`])}`);
    expect(now["base.qcow2"].published).to.equal(built["base.qcow2"].published);
    expect(await changedOps(b)).to.deep.equal([]);
  });

  it("refresh asks the registry: a runner without files keeps every image; an image gone from the registry is dropped, and preview rebuilds it", async () => {
    const before = await stateImages(b);
    expect(Object.keys(before).sort()).to.deep.equal(["base.qcow2", "child.qcow2"]);
    for (const name of Object.keys(before)) fs.rmSync(imageFile(b, name), { force: true });
    const [r, requests] = await requestsDuring(() => b.must("refresh", "--stack", b.stack, "--yes"));
    expect(downloads(requests)).to.deep.equal([]);
    expect(r.stdout + r.stderr).not.to.match(BUILD_TOOLS);
    expect(await stateImages(b)).to.deep.equal(before);

    craneSync(["delete", before["child.qcow2"]!]);
    expect(Object.fromEntries(await changedOps(b))).to.deep.equal({ "child.qcow2": "replace" });
    await b.must("refresh", "--stack", b.stack, "--yes");
    expect(await stateImages(b)).to.deep.equal({ "base.qcow2": before["base.qcow2"] });
    expect(Object.fromEntries(await changedOps(b))).to.deep.equal({ "child.qcow2": "create" });
  });

  it("destroy removes the local copy at the path the state records and leaves the registry as it was", async () => {
    const left = await stateImages(b);
    expect(Object.keys(left)).to.deep.equal(["base.qcow2"]);
    // Runner B was the last to update the stack: the state names its directory. It fetches its copy again.
    await b.setConfig("localCopies", "true");
    const exported = JSON.parse((await b.must("stack", "export", "--stack", b.stack)).stdout) as { deployment: { resources: { urn: string }[] } };
    const baseUrn = exported.deployment.resources.map((r) => r.urn).find((u) => u.endsWith("::base.qcow2"))!;
    await b.up("--target", baseUrn);
    expect(fs.existsSync(imageFile(b, "base.qcow2"))).to.equal(true);
    const [, requests] = await requestsDuring(() => b.destroy());
    expect(fs.existsSync(imageFile(b, "base.qcow2"))).to.equal(false);
    expect(fs.existsSync(imageFile(b, ".base.qcow2.published"))).to.equal(false);
    expect(writes(requests)).to.deep.equal([]);
    expect(`${repo}@${craneSync(["digest", `${repo}:${built["base.qcow2"].buildKey}`])}`).to.equal(left["base.qcow2"]);
  });
});
