import { expect } from "chai";
import { decideImageDiff, needsDigest, PARENT_MAY_CHANGE, type DiffState, type PublishedFacts, rebuildReasons, UNKNOWN, UNREACHABLE } from "../../provider/model/diff";

const identity = { ino: 1, size: 100, mtimeMs: 5 };
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const olds: DiffState = {
  dir: "/i", name: "a.img", buildKey: "k1", mergeSteps: true, path: "/i/a.img", identity,
  fileHashes: { "env.sh": "h1" }, parentDigest: D1, digest: `sha256:${"a".repeat(64)}`, source: "built",
};

describe("diff decisions", () => {
  const table: [string, Partial<DiffState>, typeof identity | undefined, { changes: boolean; replaces: string[] }][] = [
    ["nothing changed", {}, identity, { changes: false, replaces: [] }],
    ["only mergeSteps changed: update in place", { mergeSteps: false }, identity, { changes: true, replaces: [] }],
    ["the build key changed", { buildKey: "k2" }, identity, { changes: true, replaces: ["buildKey"] }],
    ["a local file changed", { buildKey: "k2", fileHashes: { "env.sh": "h2" } }, identity, { changes: true, replaces: ["fileHashes", "buildKey"] }],
    ["the parent is rebuilt (preview: its digest is not known yet)", { buildKey: UNKNOWN, parentDigest: UNKNOWN }, identity, { changes: true, replaces: ["parentDigest", "buildKey"] }],
    ["the parent was rebuilt to other bytes", { buildKey: "k3", parentDigest: D2 }, identity, { changes: true, replaces: ["parentDigest", "buildKey"] }],
    ["the parent was rebuilt to the same bytes: the build key and the image stay", { parentDigest: D1 }, identity, { changes: false, replaces: [] }],
    ["an external parent's key changed", { buildKey: "k3", parentKey: "pulled sha256:2" }, identity, { changes: true, replaces: ["parentKey", "buildKey"] }],
    ["the directory moved", { dir: "/j" }, identity, { changes: true, replaces: ["dir"] }],
    ["the rebuild trigger changed", { rebuild: "1" }, identity, { changes: true, replaces: ["rebuild"] }],
    ["the image file is gone", {}, undefined, { changes: true, replaces: ["path"] }],
    ["the image file was replaced", {}, { ...identity, ino: 2 }, { changes: true, replaces: ["path"] }],
    ["a registry is set and the image is not published: update (publish), no rebuild", { registry: "127.0.0.1:5000/t/i" }, identity, { changes: true, replaces: [] }],
    ["published to that registry already", { registry: "127.0.0.1:5000/t/i", published: `127.0.0.1:5000/t/i@sha256:${"a".repeat(64)}` }, identity, { changes: false, replaces: [] }],
    ["published to another registry: update", { registry: "127.0.0.1:5000/t/j", published: `127.0.0.1:5000/t/i@sha256:${"a".repeat(64)}` }, identity, { changes: true, replaces: [] }],
    ["a new human tag: update", { registry: "127.0.0.1:5000/t/i", tag: "v2", published: `127.0.0.1:5000/t/i@sha256:${"a".repeat(64)}`, publishedTag: "v1" }, identity, { changes: true, replaces: [] }],
  ];
  for (const [what, news, onDisk, expected] of table) {
    it(what, () => {
      const { published, publishedTag, ...inputs } = news;
      expect(decideImageDiff({ ...olds, published, publishedTag }, { ...olds, ...inputs }, onDisk)).to.deep.equal(expected);
    });
  }

  it("updates an image recorded without a content digest (its children are keyed by it), unless only the registry holds it", () => {
    const { digest: _d, ...old } = olds;
    expect(decideImageDiff(old, olds, identity)).to.deep.equal({ changes: true, replaces: [] });
    expect(needsDigest(old)).to.equal(true);
    expect(needsDigest({ ...old, source: `registry 127.0.0.1:5000/t/i@sha256:${"a".repeat(64)}` })).to.equal(false);
    expect(needsDigest(olds)).to.equal(false);
  });
});

describe("diff decisions for an image in the registry (the registry, not the file, is the image)", () => {
  const repo = "127.0.0.1:5000/t/i";
  const at = `${repo}@sha256:${"a".repeat(64)}`;
  const moved = `${repo}@sha256:${"b".repeat(64)}`;
  const state: DiffState = { ...olds, registry: repo, published: at };
  const table: [string, Partial<DiffState>, PublishedFacts, { changes: boolean; replaces: string[] }][] = [
    ["unchanged, with a local copy", {}, { current: at, localCopy: true }, { changes: false, replaces: [] }],
    ["no local copy, and this machine keeps none: nothing to do", { localCopies: false }, { current: at, localCopy: false }, { changes: false, replaces: [] }],
    ["no local copy, and this machine keeps them: fetch it (update), never build", { localCopies: true }, { current: at, localCopy: false }, { changes: true, replaces: [] }],
    ["another machine's directory, keeping no copies: nothing to do (a no-op up)", { dir: "/j", localCopies: false }, { current: at, localCopy: false }, { changes: false, replaces: [] }],
    ["another machine's directory, keeping copies: update (fetch this machine's copy), no rebuild", { dir: "/j", localCopies: true }, { current: at, localCopy: false }, { changes: true, replaces: [] }],
    ["the build key's tag moved: update (follow it)", { localCopies: false }, { current: moved, localCopy: false }, { changes: true, replaces: [] }],
    ["recorded without a digest, with a local copy: update (hash it)", { digest: undefined, localCopies: true }, { current: at, localCopy: true }, { changes: true, replaces: [] }],
    ["recorded without a digest, keeping no copies: nothing to hash here", { digest: undefined, localCopies: false }, { current: at, localCopy: false }, { changes: false, replaces: [] }],
    ["gone from the registry: rebuild", {}, { current: undefined, localCopy: true }, { changes: true, replaces: ["published"] }],
    ["the registry does not answer: nothing decided against the image", {}, { current: UNREACHABLE, localCopy: false }, { changes: false, replaces: [] }],
    ["the build key changed: rebuild as always", { buildKey: "k2" }, { current: at, localCopy: true }, { changes: true, replaces: ["buildKey"] }],
  ];
  for (const [what, news, facts, expected] of table) {
    it(what, () => {
      // The file on disk (undefined: none) plays no part.
      const { digest, ...inputs } = news;
      const olds = "digest" in news ? { ...state, digest } : state;
      expect(decideImageDiff(olds, { ...state, ...inputs }, undefined, facts)).to.deep.equal(expected);
    });
  }
});

describe("rebuild reasons", () => {
  const built = {
    dir: "/i", name: "net.qcow2", parent: "base.qcow2", packages: ["iperf3", "socat"],
    actions: [{ type: "run-command", cmd: "/root/bootstrap/net.sh", comment: "net" }],
    suite: "bookworm", backend: "direct", fileHashes: { "bootstrap/net.sh": "h1", "env.sh": "h2" } as Record<string, string>,
    parentBuildKey: "p1", parentDigest: D1, buildKey: "k1",
  };
  const reasons = (news: Partial<typeof built> & { size?: string; rebuild?: string; parentKey?: string }) => rebuildReasons(built, { ...built, ...news });

  it("gives none for a new image or an unchanged build key", () => {
    expect(rebuildReasons(undefined, built)).to.deep.equal([]);
    expect(rebuildReasons({}, built)).to.deep.equal([]);
    expect(reasons({ packages: ["socat", "iperf3", "socat"] })).to.deep.equal([]);
  });
  it("names a changed, added or dropped local file by the path the images file gives it", () => {
    expect(reasons({ buildKey: "k2", fileHashes: { "bootstrap/net.sh": "h3", "env.sh": "h2" } })).to.deep.equal(["file bootstrap/net.sh changed"]);
    expect(reasons({ buildKey: "k2", fileHashes: { "bootstrap/net.sh": "h1", "env.sh": "h2", "bootstrap/bpf.sh": "h4" } }))
      .to.deep.equal(["file bootstrap/bpf.sh added"]);
    expect(reasons({ buildKey: "k2", fileHashes: { "env.sh": "h2" } })).to.deep.equal(["file bootstrap/net.sh no longer used"]);
  });
  it("says the parent's content may change when its digest is not known yet (preview of a rebuilt parent)", () => {
    expect(PARENT_MAY_CHANGE).to.equal("parent's content may change (parent rebuilt)");
    expect(reasons({ buildKey: UNKNOWN, parentBuildKey: "p2", parentDigest: UNKNOWN })).to.deep.equal([PARENT_MAY_CHANGE]);
    expect(reasons({ buildKey: UNKNOWN, parentBuildKey: UNKNOWN, parentDigest: UNKNOWN })).to.deep.equal([PARENT_MAY_CHANGE]);
  });
  it("counts a parent by its bytes: another digest is a reason, another build key alone is none", () => {
    expect(reasons({ buildKey: "k2", parentDigest: D2 })).to.deep.equal(["parent's content changed"]);
    expect(reasons({ parentBuildKey: "p2" })).to.deep.equal([]);
  });
  it("says parent replaced when an external parent's key is unknown or changed", () => {
    const external = { ...built, parentBuildKey: undefined, parentDigest: undefined, parentKey: "pulled sha256:1" };
    expect(rebuildReasons(external, { ...external, buildKey: UNKNOWN, parentKey: UNKNOWN })).to.deep.equal(["parent replaced"]);
    expect(rebuildReasons(external, { ...external, buildKey: "k2", parentKey: "pulled sha256:2" })).to.deep.equal(["parent replaced"]);
  });
  it("names changed settings, ignoring action comments", () => {
    expect(reasons({ buildKey: "k2", packages: ["iperf3"], size: "10G" })).to.deep.equal(["packages changed", "size changed"]);
    expect(reasons({ buildKey: "k2", actions: [{ type: "run-command", cmd: "true", comment: "net" }] })).to.deep.equal(["actions changed"]);
    expect(reasons({ actions: [{ type: "run-command", cmd: "/root/bootstrap/net.sh", comment: "other" }] })).to.deep.equal([]);
    // The engine hands old inputs back with their keys sorted.
    expect(reasons({ buildKey: "k2", actions: [{ cmd: "/root/bootstrap/net.sh", type: "run-command" } as never] })).to.deep.equal(["build pipeline changed"]);
    expect(reasons({ rebuild: "2" })).to.deep.equal(["rebuild trigger changed"]);
  });
  it("falls back to the pipeline when nothing else explains a new build key", () => {
    expect(reasons({ buildKey: "k2" })).to.deep.equal(["build pipeline changed"]);
  });
});
