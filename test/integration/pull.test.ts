// `npm run lvh -- images pull` against a real registry (Debian's
// docker-registry on 127.0.0.1) with the real crane: an lvh-images-shaped
// image lands decompressed and byte-identical, --cache keeps the .zst,
// hostile layers are refused with nothing written, and credentials come from
// the Docker config or REGISTRY_AUTH_FILE and never show up in an error.
import { expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { registrySession } from "../../provider/builder/oci/crane";
import { memoryLogger } from "../../provider/builder/run/log";
import { publishImage } from "../../provider/builder/oci/publish";
import { pullImages } from "../../provider/builder/oci/pull";
import { craneSync, publishLayer, publishLvhShaped, TestRegistry } from "../support/registry";
import { type TarSpec, writeTar } from "../support/tarwriter";

const LVH = path.resolve(__dirname, "..", "..", "cli", "lvh.js");

function lvhPull(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const e = { ...env };
  delete e.INIT_CWD;
  return spawnSync(process.execPath, [LVH, "images", "pull", ...args], { encoding: "utf8", env: e });
}

/** Every file under `dir`, relative. */
function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

describe("integration: lvh images pull from a real registry", function () {
  this.timeout(5 * 60_000);
  let reg: TestRegistry;
  let work: string;
  let src: string;

  before(async () => {
    reg = await TestRegistry.start();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-pull-"));
    src = path.join(work, "src", "base.qcow2");
    fs.mkdirSync(path.dirname(src));
    fs.writeFileSync(src, crypto.randomBytes(3 << 20));
  });
  after(async () => {
    await reg?.dispose();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("lands base.qcow2 decompressed and byte-identical in DIR/images; --cache keeps the .zst", () => {
    const digest = publishLvhShaped(`${reg.host}/team/images:v1`, [src]);
    const plain = lvhPull([`${reg.host}/team/images:v1`, "--dir", path.join(work, "plain")]);
    expect(plain.status, plain.stderr).to.equal(0);
    expect(plain.stdout).to.include(digest);
    expect(tree(path.join(work, "plain"))).to.deep.equal(["images", "images/base.qcow2"]);
    expect(fs.readFileSync(path.join(work, "plain", "images", "base.qcow2")).equals(fs.readFileSync(src))).to.equal(true);

    const cached = lvhPull([`${reg.host}/team/images:v1`, "--dir", path.join(work, "cached"), "--cache"]);
    expect(cached.status, cached.stderr).to.equal(0);
    expect(tree(path.join(work, "cached", "images"))).to.deep.equal(["base.qcow2", "base.qcow2.zst"]);
    const unzst = execFileSync("zstd", ["-d", "-c", path.join(work, "cached", "images", "base.qcow2.zst")], { maxBuffer: 64 << 20 });
    expect(unzst.equals(fs.readFileSync(src))).to.equal(true);
  });

  it("resolves a multi-platform index to the host's platform, or to --platform", () => {
    const other = path.join(work, "src", "arm", "base.qcow2");
    fs.mkdirSync(path.dirname(other));
    fs.writeFileSync(other, "the arm64 image\n");
    publishLvhShaped(`${reg.host}/team/multi:amd64`, [src]);
    const arm = publishLvhShaped(`${reg.host}/team/multi:arm64`, [other]);
    craneSync(["mutate", `${reg.host}/team/multi@${arm}`, "--set-platform", "linux/arm64", "-t", `${reg.host}/team/multi:arm64`]);
    craneSync(["index", "append", "-m", `${reg.host}/team/multi:amd64`, "-m", `${reg.host}/team/multi:arm64`, "-t", `${reg.host}/team/multi:both`]);
    const host = lvhPull([`${reg.host}/team/multi:both`, "--dir", path.join(work, "multi-host")]);
    expect(host.status, host.stderr).to.equal(0);
    expect(fs.readFileSync(path.join(work, "multi-host", "images", "base.qcow2")).equals(fs.readFileSync(src))).to.equal(true);
    const armPull = lvhPull([`${reg.host}/team/multi:both`, "--dir", path.join(work, "multi-arm"), "--platform", "linux/arm64"]);
    expect(armPull.status, armPull.stderr).to.equal(0);
    expect(fs.readFileSync(path.join(work, "multi-arm", "images", "base.qcow2"), "utf8")).to.equal("the arm64 image\n");
  });

  it("refuses to overwrite an image the stack builds itself, leaving it as it was", async () => {
    const dir = path.join(work, "builds", "images");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "base.qcow2"), "built here\n");
    const session = registrySession();
    try {
      const pulling = pullImages({
        ref: `${reg.host}/team/images:v1`, dir, log: memoryLogger(), label: "pull", session,
        refuse: { names: ["base.qcow2"], why: "which the images file builds" },
      });
      await pulling.then(() => expect.fail("pulled"), (err: Error) => expect(err.message, err.message).to.match(/refused: it holds base\.qcow2, which the images file builds/));
    } finally {
      session.close();
    }
    expect(tree(dir)).to.deep.equal(["base.qcow2"]);
    expect(fs.readFileSync(path.join(dir, "base.qcow2"), "utf8")).to.equal("built here\n");
  });

  it("stops an image that decompresses past the bound, naming it, with no partial file left", async () => {
    // 100 MB of zeros in about 3 KB of zstd, against a bound of 10 MB.
    const bomb = path.join(work, "src", "bomb", "bomb.qcow2");
    fs.mkdirSync(path.dirname(bomb), { recursive: true });
    fs.writeFileSync(bomb, Buffer.alloc(100 << 20));
    publishLvhShaped(`${reg.host}/team/bomb:v1`, [bomb]);
    fs.rmSync(bomb);
    const dir = path.join(work, "bomb", "images");
    const session = registrySession();
    try {
      const pulling = pullImages({ ref: `${reg.host}/team/bomb:v1`, dir, log: memoryLogger(), label: "pull", session, maxImageBytes: 10 << 20 });
      await pulling.then(() => expect.fail("pulled"), (err: Error) => expect(err.message).to.match(
        /team\/bomb:v1: refused: data\/images\/bomb\.qcow2\.zst decompresses to more than 10485760 bytes, the most a pulled image may have; nothing was written/));
    } finally {
      session.close();
    }
    expect(tree(dir)).to.deep.equal([]);
  });

  const good: TarSpec[] = [
    { name: "data/", type: "5" },
    { name: "data/images/", type: "5" },
    { name: "data/images/good.qcow2.zst", data: execFileSync("zstd", ["-q", "-c"], { input: Buffer.from("good image\n") }) },
  ];
  const hostile: Record<string, { entry: TarSpec; says: RegExp }> = {
    "../escape": { entry: { name: "../escape.zst", data: Buffer.from("escaped\n") }, says: /escape|\.\./ },
    "an absolute path": { entry: { name: "/abs.zst", data: Buffer.from("absolute\n") }, says: /absolute|\/abs/ },
    "a symlink": { entry: { name: "data/images/link.qcow2.zst", type: "2", linkname: "/etc/passwd" }, says: /symlink/ },
    "a device": { entry: { name: "data/images/dev.qcow2.zst", type: "3" }, says: /chardev/ },
  };
  for (const [what, { entry, says }] of Object.entries(hostile)) {
    it(`refuses a layer with ${what}: nothing written outside, no partial file, the existing image untouched`, () => {
      const layer = path.join(work, "evil.tar");
      const ref = `${reg.host}/team/evil:${what.replace(/[^a-z]/g, "")}`;
      publishLayer(ref, () => writeTar(layer, [...good, entry]), layer);
      const dir = path.join(work, `evil-${what.replace(/[^a-z]/g, "")}`, "d");
      fs.mkdirSync(path.join(dir, "images"), { recursive: true });
      fs.writeFileSync(path.join(dir, "images", "good.qcow2"), "previous\n");
      const before = tree(path.dirname(dir));
      const r = lvhPull([ref, "--dir", dir]);
      expect(r.status).to.equal(1);
      expect(r.stderr).to.match(says);
      expect(r.stderr).to.match(/refused|failed/);
      expect(tree(path.dirname(dir))).to.deep.equal(before);
      expect(fs.readFileSync(path.join(dir, "images", "good.qcow2"), "utf8")).to.equal("previous\n");
      expect(fs.existsSync(path.join(work, "escape.zst"))).to.equal(false);
    });
  }

  describe("with htpasswd authentication", () => {
    let authReg: TestRegistry;
    const password = "s3cret-Pa55word";
    before(async () => {
      authReg = await TestRegistry.start({ auth: { user: "ci", password } });
    });
    after(async () => authReg?.dispose());

    it("pulls with DOCKER_CONFIG or REGISTRY_AUTH_FILE, and without credentials fails naming the registry, never the password", () => {
      const config = authReg.dockerConfig();
      const env = { ...process.env, DOCKER_CONFIG: config };
      publishLvhShaped(`${authReg.host}/team/images:v1`, [src], env);
      const ok = lvhPull([`${authReg.host}/team/images:v1`, "--dir", path.join(work, "auth")], env);
      expect(ok.status, ok.stderr).to.equal(0);
      expect(fs.readFileSync(path.join(work, "auth", "images", "base.qcow2")).equals(fs.readFileSync(src))).to.equal(true);

      const authFile: NodeJS.ProcessEnv = { ...process.env, REGISTRY_AUTH_FILE: path.join(config, "config.json") };
      delete authFile.DOCKER_CONFIG;
      const viaAuthFile = lvhPull([`${authReg.host}/team/images:v1`, "--dir", path.join(work, "authfile")], authFile);
      expect(viaAuthFile.status, viaAuthFile.stderr).to.equal(0);

      const empty = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-no-creds-"));
      const denied = lvhPull([`${authReg.host}/team/images:v1`, "--dir", path.join(work, "denied")], { ...process.env, DOCKER_CONFIG: empty });
      expect(denied.status).to.equal(1);
      expect(denied.stderr).to.include(`registry ${authReg.host}`);
      expect(denied.stderr).to.match(/UNAUTHORIZED|401/);
      for (const out of [ok, viaAuthFile, denied]) expect(out.stdout + out.stderr).not.to.include(password);
      expect(fs.existsSync(path.join(work, "denied", "images", "base.qcow2"))).to.equal(false);
      fs.rmSync(empty, { recursive: true, force: true });
      fs.rmSync(config, { recursive: true, force: true });
    });

    it("publishes with the credentials of REGISTRY_AUTH_FILE; a wrong password fails naming the registry, never the password", async () => {
      const facts = { name: "base.qcow2", buildKey: "a".repeat(64), suite: "bookworm", backend: "direct", created: "2026-01-01T00:00:00Z" };
      const withAuthFile = async (pw: string) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-auth-file-"));
        const file = path.join(dir, "auth.json");
        fs.writeFileSync(file, JSON.stringify({ auths: { [authReg.host]: { auth: Buffer.from(`ci:${pw}`).toString("base64") } } }));
        const saved = { REGISTRY_AUTH_FILE: process.env.REGISTRY_AUTH_FILE, DOCKER_CONFIG: process.env.DOCKER_CONFIG };
        process.env.REGISTRY_AUTH_FILE = file;
        delete process.env.DOCKER_CONFIG;
        const session = registrySession();
        const log = memoryLogger();
        try {
          return { ref: await publishImage({ file: src, repository: `${authReg.host}/team/published`, facts, tag: "main", log, label: "publish", session }), log };
        } catch (err) {
          return { err: err as Error, log };
        } finally {
          session.close();
          for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
          fs.rmSync(dir, { recursive: true, force: true });
        }
      };
      const good = await withAuthFile(password);
      expect(good.err, good.err?.message).to.equal(undefined);
      const config = authReg.dockerConfig();
      const env = { ...process.env, DOCKER_CONFIG: config };
      expect(`${authReg.host}/team/published@${craneSync(["digest", `${authReg.host}/team/published:${"a".repeat(64)}`], env)}`).to.equal(good.ref);
      expect(craneSync(["digest", `${authReg.host}/team/published:base.qcow2-main`], env)).to.equal(good.ref!.replace(/^.*@/, ""));
      fs.rmSync(config, { recursive: true, force: true });

      const wrong = "Wr0ng-pa55word-xyz";
      const bad = await withAuthFile(wrong);
      expect(bad.err?.message).to.include(`registry ${authReg.host}`);
      expect(bad.err?.message).to.match(/UNAUTHORIZED|401/);
      for (const text of [bad.err!.message, ...bad.log.lines, ...good.log.lines]) {
        expect(text).not.to.include(wrong);
        expect(text).not.to.include(password);
        expect(text).not.to.include(Buffer.from(`ci:${wrong}`).toString("base64"));
      }
    });
  });
});
