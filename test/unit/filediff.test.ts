// Two images' files compared (model/filediff.ts): the paths as listed, what
// differs in a file, the differing files in order, and how many are
// shown; and the owner and time the tar reader gives for a listing.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readTar } from "../../provider/model/tar";
import { diffListings, factDifferences, type FileFacts, type FileListing, formatDifferences, listedPath, summarize } from "../../provider/model/filediff";

const file = (extra: Partial<FileFacts> = {}): FileFacts => ({ type: "file", mode: 0o100644, uid: 0, gid: 0, size: 4, sha256: "a".repeat(64), mtime: 100, ...extra });
const listing = (entries: Record<string, FileFacts>): FileListing => new Map(Object.entries(entries));

describe("filediff: two images' files compared", () => {
  it("reads a listed name as one path: ./etc/x, etc/x, /etc/x/; the root is /", () => {
    expect(["./etc/x", "etc/x", "/etc/x/", "././etc/x"].map(listedPath)).to.deep.equal(["/etc/x", "/etc/x", "/etc/x", "/etc/x"]);
    expect(["./", ".", "/", ""].map(listedPath)).to.deep.equal(["/", "/", "/", "/"]);
  });

  it("says what differs in one file: content with both sizes, mode, owner, link, time", () => {
    expect(factDifferences(file(), file())).to.deep.equal([]);
    expect(factDifferences(file(), file({ size: 9, sha256: "b".repeat(64) }))).to.deep.equal([`content (size 4 -> 9, sha256 ${"a".repeat(12)} -> ${"b".repeat(12)})`]);
    expect(factDifferences(file(), file({ mode: 0o100600, uid: 1000, gid: 1000, mtime: 5 }))).to.deep.equal(["mode 0644 -> 0600", "owner 0:0 -> 1000:1000", "mtime 100 -> 5"]);
    expect(factDifferences(file({ type: "symlink", sha256: undefined, link: "a" }), file({ type: "symlink", sha256: undefined, link: "b" }))).to.deep.equal(['link "a" -> "b"']);
  });

  it("a changed type is said alone: the rest of it compares nothing", () => {
    expect(factDifferences(file(), file({ type: "dir", mode: 0o40755, sha256: undefined }))).to.deep.equal(["type file -> dir"]);
  });

  it("lists the differing files, those that hold something else first, then mode or owner, then time only, each in path order", () => {
    const published = listing({
      "/a": file({ mtime: 1 }), "/etc/b": file(), "/etc/a": file({ mode: 0o100600 }), "/gone": file(), "/same": file(), "/z": file({ uid: 1, mtime: 1 }),
    });
    const rebuilt = listing({
      "/a": file(), "/etc/b": file({ sha256: "c".repeat(64), mtime: 1 }), "/etc/a": file(), "/new": file({ type: "dir" }), "/same": file(), "/z": file(),
    });
    const diffs = diffListings(published, rebuilt);
    expect(diffs).to.deep.equal([
      { path: "/etc/b", what: [`content (size 4 -> 4, sha256 ${"a".repeat(12)} -> ${"c".repeat(12)})`, "mtime 100 -> 1"] },
      { path: "/gone", what: ["only in the published image (file)"] },
      { path: "/new", what: ["only in the rebuilt image (dir)"] },
      { path: "/etc/a", what: ["mode 0600 -> 0644"] },
      { path: "/z", what: ["owner 1:0 -> 0:0", "mtime 1 -> 100"] },
      { path: "/a", what: ["mtime 1 -> 100"] },
    ]);
    expect(summarize(diffs)).to.equal("3 in what they hold, 2 in mode or owner, 1 in time only");
  });

  it("shows the first few and says how many more there are", () => {
    const diffs = ["/a", "/b", "/c"].map((p) => ({ path: p, what: ["mtime 1 -> 2"] }));
    expect(formatDifferences(diffs, 2)).to.deep.equal(["  /a: mtime 1 -> 2", "  /b: mtime 1 -> 2", "  ... and 1 more"]);
    expect(formatDifferences(diffs, 3)).to.have.length(3);
  });
});

describe("tar reader: owner, group and time of each entry", () => {
  for (const format of ["gnu", "pax"]) {
    it(`reads them from GNU tar's ${format} archives`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-tar-"));
      try {
        fs.writeFileSync(path.join(dir, "f"), "x");
        const tar = execFileSync("tar", [`--format=${format}`, "--owner=1234", "--group=56", "--numeric-owner", "--mtime=@1700000000", "-C", dir, "-c", "f"]);
        const seen: object[] = [];
        await readTar((async function* () { yield tar; })(), async (e) => void seen.push({ name: e.name, uid: e.uid, gid: e.gid, mtime: e.mtime }));
        expect(seen).to.deep.equal([{ name: "f", uid: 1234, gid: 56, mtime: 1700000000 }]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
