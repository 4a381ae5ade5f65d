import { expect } from "chai";
import { decideImageDiff, type DiffState, UNKNOWN } from "../../provider/diff";

const identity = { ino: 1, size: 100, mtimeMs: 5 };
const olds: DiffState = {
  dir: "/i", name: "a.img", buildKey: "k1", mergeSteps: true, path: "/i/a.img", identity,
  fileHashes: { "env.sh": "h1" }, parentBuildKey: "p1",
};

describe("diff decisions", () => {
  const table: [string, Partial<DiffState>, typeof identity | undefined, { changes: boolean; replaces: string[] }][] = [
    ["nothing changed", {}, identity, { changes: false, replaces: [] }],
    ["only mergeSteps changed: update in place", { mergeSteps: false }, identity, { changes: true, replaces: [] }],
    ["the build key changed", { buildKey: "k2" }, identity, { changes: true, replaces: ["buildKey"] }],
    ["a local file changed", { buildKey: "k2", fileHashes: { "env.sh": "h2" } }, identity, { changes: true, replaces: ["fileHashes", "buildKey"] }],
    ["the parent is rebuilt (preview)", { buildKey: UNKNOWN, parentBuildKey: UNKNOWN }, identity, { changes: true, replaces: ["parentBuildKey", "buildKey"] }],
    ["the parent was rebuilt", { buildKey: "k3", parentBuildKey: "p2" }, identity, { changes: true, replaces: ["parentBuildKey", "buildKey"] }],
    ["the directory moved", { dir: "/j" }, identity, { changes: true, replaces: ["dir"] }],
    ["the rebuild trigger changed", { rebuild: "1" }, identity, { changes: true, replaces: ["rebuild"] }],
    ["the image file is gone", {}, undefined, { changes: true, replaces: ["path"] }],
    ["the image file was replaced", {}, { ...identity, ino: 2 }, { changes: true, replaces: ["path"] }],
  ];
  for (const [what, news, onDisk, expected] of table) {
    it(what, () => expect(decideImageDiff(olds, { ...olds, ...news }, onDisk)).to.deep.equal(expected));
  }
});
