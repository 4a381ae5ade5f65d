// Incremental roots with the real tools: a root image whose action alone
// changed starts from its cached packages stage (no mmdebstrap) and has the
// same files as the same image built cold; the cached stage is never
// written by the build that uses it, and is not used once any suite it was
// resolved from has changed.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { directBackend } from "../../provider/builder/backends/direct";
import { cacheDir } from "../../provider/builder/cache/dirs";
import { FileCache } from "../../provider/builder/cache/filecache";
import { buildImage } from "../../provider/builder/image/safebuild";
import { type ImageConfigInput, parseImageConfig } from "../../provider/model/config";
import { sha256File } from "../../provider/model/hash";
import { imageTree, treeDiff, VOLATILE } from "../support/tree";

describe("integration: incremental roots (direct backend)", function () {
  this.timeout(20 * 60_000);
  let work: string;
  const saved = { max: process.env.VM_IMAGES_CACHE_MAX, dir: process.env.VM_IMAGES_BUILT_CACHE_DIR };

  const image = (cmd: string): ImageConfigInput => ({
    name: "r.img", size: "1G", bootable: false, packages: ["jq"], actions: [{ type: "run-command", cmd }],
  });
  const build = (dir: string, config: ImageConfigInput) => buildImage({
    dir: path.join(work, dir), image: parseImageConfig(config), suite: "bookworm", baseDir: work, mergeSteps: true,
    backend: directBackend, guestfsEnv: {}, cacheDir: cacheDir(), signal: new AbortController().signal,
  });

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-rootcache-"));
    process.env.VM_IMAGES_BUILT_CACHE_DIR = path.join(work, "built");
  });
  after(() => {
    for (const [k, v] of [["VM_IMAGES_CACHE_MAX", saved.max], ["VM_IMAGES_BUILT_CACHE_DIR", saved.dir]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("rebuilds an action-only edit from the packages stage, with the files of a cold build", async () => {
    process.env.VM_IMAGES_CACHE_MAX = "20G";
    const first = await build("a", image("echo one > /etc/one"));
    expect(fs.readFileSync(first.logFile, "utf8")).to.match(/packages stage: not in the cache \(root-[0-9a-f]{64}\.raw\)/);
    const cache = FileCache.of(cacheDir())!;
    const [stage] = fs.readdirSync(cache.dir).filter((n) => n.startsWith("root-") && n.endsWith(".raw"));
    expect(stage, "a packages stage is cached").to.be.a("string");

    // It records the package indices of every suite apt resolved from, mmdebstrap's own included.
    const facts = cache.lookup(stage)!;
    const indexes = JSON.parse(facts.indexes as string) as { uri: string; suite: string; digest: string }[];
    expect(indexes.map((i) => `${i.uri} ${i.suite}`)).to.deep.equal([
      "http://deb.debian.org/debian bookworm",
      "http://deb.debian.org/debian bookworm-updates",
      "http://security.debian.org/debian-security bookworm-security",
    ]);
    for (const i of indexes) expect(i.digest).to.match(/^[0-9a-f]{64}$/);

    const edited = await build("b", image("echo two > /etc/two"));
    const log = fs.readFileSync(edited.logFile, "utf8");
    expect(log).to.include(`packages stage: from the cache (${stage}), no mmdebstrap`);
    expect(edited.timings.map((t) => t.step)).to.not.include("bootstrap root file system (mmdebstrap)");
    // The build wrote to its copy, not to the stage.
    expect(cache.lookup(stage), "the stage is unchanged").to.deep.equal(facts);

    // Once the security suite has published new packages (here: the stage
    // says it was resolved from other ones), the stage is not used: a cold build.
    const record = path.join(cache.dir, `${stage}.json`);
    const tampered = JSON.parse(fs.readFileSync(record, "utf8")) as { facts: { indexes: string } };
    tampered.facts.indexes = JSON.stringify(indexes.map((i) => (i.suite === "bookworm-security" ? { ...i, digest: "0".repeat(64) } : i)));
    fs.writeFileSync(record, JSON.stringify(tampered));
    const cold = await build("c", image("echo two > /etc/two"));
    expect(fs.readFileSync(cold.logFile, "utf8")).to.include(
      "packages stage: not used (the package indices of http://security.debian.org/debian-security bookworm-security have changed)",
    );
    expect(cold.timings.map((t) => t.step)).to.include("bootstrap root file system (mmdebstrap)");
    expect(cache.lookup(stage), "stored again, as resolved now").to.deep.equal(facts);

    const [fromStage, fromCold] = [await imageTree(edited.path), await imageTree(cold.path)];
    expect(fromStage.get("/etc/two")?.type).to.equal("f");
    expect(fromStage.has("/etc/one"), "the first build's action is not in the stage").to.equal(false);
    expect(fromStage.get("/usr/bin/jq")?.type).to.equal("f");
    expect(treeDiff(fromStage, fromCold, VOLATILE)).to.deep.equal([]);
    // Reproducible: from the stage or cold, the same bytes.
    expect(await sha256File(edited.path), "the image from the stage and the cold one").to.equal(await sha256File(cold.path));
  });
});
