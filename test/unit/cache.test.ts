import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cacheMaxBytes, FileCache } from "../../provider/builder/cache/filecache";
import { memoryLogger } from "../../provider/builder/run/log";
import { byteLimit, evictions } from "../../provider/model/cachepolicy";
import { packageIndexDigest, rootStageKey } from "../../provider/model/rootstage";

describe("cache size bound (VM_IMAGES_CACHE_MAX)", () => {
  const rows: [string, number][] = [
    ["0", 0], ["1000", 1000], ["512M", 512 * 2 ** 20], ["512MiB", 512 * 2 ** 20], ["20G", 20 * 2 ** 30],
    ["1.5T", 1.5 * 2 ** 40], ["8k", 8192], ["100B", 100],
  ];
  for (const [text, bytes] of rows) it(`reads ${text} as ${bytes} bytes`, () => expect(byteLimit(text)).to.equal(bytes));
  for (const bad of ["", "-1", "20 gigs", "G", "1e9", "0x10"]) it(`refuses ${JSON.stringify(bad)}`, () => expect(byteLimit(bad)).to.be.NaN);
  it("names the variable when it is not a size", () => {
    expect(() => cacheMaxBytes({ VM_IMAGES_CACHE_MAX: "lots" })).to.throw(/VM_IMAGES_CACHE_MAX="lots" is not a size/);
  });
  it("is 20G by default, and 0 turns the cache off", () => {
    expect(cacheMaxBytes({})).to.equal(20 * 2 ** 30);
    expect(FileCache.of("/nonexistent", { VM_IMAGES_CACHE_MAX: "0" })).to.equal(undefined);
  });
});

describe("cache eviction", () => {
  const e = (id: string, bytes: number, usedMs: number) => ({ id, bytes, usedMs });
  it("removes the least recently used until the rest fit", () => {
    expect(evictions([e("a", 5, 3), e("b", 5, 1), e("c", 5, 2)], 10)).to.deep.equal(["b"]);
    expect(evictions([e("a", 5, 3), e("b", 5, 1), e("c", 5, 2)], 5)).to.deep.equal(["b", "c"]);
    expect(evictions([e("a", 5, 3), e("b", 5, 1)], 10)).to.deep.equal([]);
  });
  it("keeps the entry just stored, even when it is the oldest", () => {
    expect(evictions([e("new", 5, 1), e("old", 5, 2)], 6, "new")).to.deep.equal(["old"]);
  });
  it("drops the entry just stored when it alone is over the bound", () => {
    expect(evictions([e("big", 50, 9), e("old", 5, 2)], 10, "big")).to.deep.equal(["old", "big"]);
  });
});

describe("root stage key", () => {
  const base = { suite: "bookworm", packages: ["vim", "curl"], bootable: true, bytes: 8 * 2 ** 30 };
  it("does not depend on package order or duplicates", () => {
    expect(rootStageKey({ ...base, packages: ["curl", "vim", "vim"] })).to.equal(rootStageKey(base));
  });
  for (const [field, value] of [["suite", "trixie"], ["mirror", "http://m/debian"], ["packages", ["vim"]], ["bootable", false], ["bytes", 2 ** 30]] as const) {
    it(`changes with ${field}`, () => expect(rootStageKey({ ...base, [field]: value })).to.not.equal(rootStageKey(base)));
  }
});

describe("package index digest of a Release file", () => {
  const release = (date: string, hash: string) => `Origin: Debian
Date: ${date}
MD5Sum:
 ${"0".repeat(32)} 100 main/binary-amd64/Packages
SHA256:
 ${hash} 1234 main/binary-amd64/Packages.xz
 ${"b".repeat(64)} 99 main/i18n/Translation-en.bz2
 ${"c".repeat(64)} 98 main/binary-amd64/Release
`;
  it("follows the package indices, not the date", () => {
    const a = packageIndexDigest(release("Sat, 01 Nov 2026", "a".repeat(64)));
    expect(a).to.match(/^[0-9a-f]{64}$/);
    expect(packageIndexDigest(release("Sun, 02 Nov 2026", "a".repeat(64)))).to.equal(a);
    expect(packageIndexDigest(release("Sat, 01 Nov 2026", "d".repeat(64)))).to.not.equal(a);
  });
  it("is undefined for a file that lists no package index", () => {
    expect(packageIndexDigest("Origin: Debian\nSHA256:\n " + "b".repeat(64) + " 99 main/i18n/Translation-en.bz2\n")).to.equal(undefined);
  });
});

describe("file cache", () => {
  let dir: string;
  const opts = () => ({ log: memoryLogger(), label: "test" });
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-cache-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("links an entry in and out, and forgets it once the file changes", async () => {
    const cache = new FileCache(path.join(dir, "built"), 2 ** 30);
    const file = path.join(dir, "a.img");
    fs.writeFileSync(file, "disk");
    await cache.store("image-k.raw", file, "link", { bootChecked: true }, opts());
    expect(cache.lookup("image-k.raw")).to.deep.equal({ bootChecked: true });
    const out = path.join(dir, "b.img");
    expect(await cache.take("image-k.raw", out, "link", opts())).to.equal(true);
    expect(fs.statSync(out).ino).to.equal(fs.statSync(file).ino);
    // Written in place through a link (an image booted, say): no longer the entry stored.
    fs.appendFileSync(out, "!");
    expect(cache.lookup("image-k.raw")).to.equal(undefined);
    expect(await cache.take("image-k.raw", path.join(dir, "c.img"), "link", opts())).to.equal(false);
    expect(fs.readdirSync(path.join(dir, "built"))).to.deep.equal([]);
  });

  it("copies when asked: writing the copy leaves the entry as it was", async () => {
    const cache = new FileCache(path.join(dir, "built"), 2 ** 30);
    const file = path.join(dir, "a.img");
    fs.writeFileSync(file, "disk");
    await cache.store("root-k.raw", file, "copy", {}, opts());
    fs.appendFileSync(file, "changed after");
    const out = path.join(dir, "b.img");
    expect(await cache.take("root-k.raw", out, "copy", opts())).to.equal(true);
    fs.appendFileSync(out, "!");
    expect(fs.readFileSync(out, "utf8")).to.equal("disk!");
    expect(cache.lookup("root-k.raw")).to.deep.equal({});
  });

  it("removes the temp files of a store whose process died", async () => {
    const cache = new FileCache(path.join(dir, "built"), 2 ** 30);
    fs.mkdirSync(cache.dir);
    // PID 2^22 + 1 is above Linux's highest PID: no such process.
    const dead = path.join(cache.dir, `image-k.raw.tmp-${2 ** 22 + 1}`);
    const ours = path.join(cache.dir, `image-j.raw.tmp-${process.pid}`);
    fs.writeFileSync(dead, "half");
    fs.writeFileSync(`${dead}.json`, "{");
    fs.writeFileSync(ours, "writing");
    cache.evict();
    expect(fs.readdirSync(cache.dir)).to.deep.equal([path.basename(ours)]);
  });

  it("keeps within its bound, least recently used first", async () => {
    const cache = new FileCache(path.join(dir, "built"), 3 * 4096);
    for (const [i, name] of ["x", "y", "z"].entries()) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, Buffer.alloc(4096, 1));
      await cache.store(`image-${name}.raw`, file, "copy", {}, opts());
      const t = new Date(Date.now() - (10 - i) * 1000);
      fs.utimesSync(path.join(dir, "built", `image-${name}.raw.json`), t, t);
    }
    // Using x makes y the least recently used.
    expect(await cache.take("image-x.raw", path.join(dir, "x2"), "link", opts())).to.equal(true);
    fs.writeFileSync(path.join(dir, "w"), Buffer.alloc(4096, 1));
    await cache.store("image-w.raw", path.join(dir, "w"), "copy", {}, opts());
    const left = fs.readdirSync(path.join(dir, "built")).filter((n) => !n.endsWith(".json")).sort();
    expect(left).to.deep.equal(["image-w.raw", "image-x.raw", "image-z.raw"]);
  });
});
