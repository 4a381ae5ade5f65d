import { expect } from "chai";
import { applyScript, debugfsErrors, parseGetfattr, parseLowerListing, parseUpperListing, quoted, type UpperEntry } from "../../provider/model/changes";

describe("a derived image's changes as debugfs commands", () => {
  const entry = (p: string, type: UpperEntry["type"], over: Partial<UpperEntry> = {}): UpperEntry => ({
    path: p, type, mode: type === "d" ? 0o755 : 0o644, uid: 0, gid: 0, mtime: 100, ino: p.length + 1000, nlink: 1, opaque: false, xattrs: [], ...over,
  });
  const EPOCH = 50;

  it("parses find's listings, telling whiteouts from devices and opaque directories from others", () => {
    const lower = parseLowerListing("d .\0d ./etc\0f ./etc/a\0l ./bin\0");
    expect([...lower]).to.deep.equal([["", "d"], ["etc", "d"], ["etc/a", "f"], ["bin", "l"]]);
    const upper = parseUpperListing(
      "d 755 0 0 1.5 2 3\0.\0\0c 0 0 0 7.0 9 2\0./gone\0\0c 644 0 0 7.0 10 1\0./dev/null\0\0l 777 5 6 8.9 11 1\0./link\0../x y\0d 700 0 0 1.0 12 2\0./opq\0\0",
      "0 0 ./gone\x001 3 ./dev/null\0",
      new Map([["opq", [{ name: "trusted.overlay.opaque", file: "/v/0" }]], ["link", [{ name: "user.a", file: "/v/1" }]]]),
    );
    expect(upper.map((e) => [e.path, e.type])).to.deep.equal([["", "d"], ["dev/null", "c"], ["gone", "w"], ["link", "l"], ["opq", "d"]]);
    expect(upper.find((e) => e.path === "dev/null")!.rdev).to.deep.equal({ major: 1, minor: 3 });
    expect(upper.find((e) => e.path === "link")).to.include({ target: "../x y", uid: 5, gid: 6, mtime: 8, mode: 0o777 });
    expect(upper.find((e) => e.path === "opq")).to.include({ opaque: true });
    expect(upper.find((e) => e.path === "opq")!.xattrs).to.deep.equal([]);
    expect(upper.find((e) => e.path === "link")!.xattrs).to.deep.equal([{ name: "user.a", file: "/v/1" }]);
  });

  it("removes a whiteout's directory deepest first, replaces files, and keeps directories that stay", () => {
    const lower = new Map<string, UpperEntry["type"]>([["", "d"], ["etc", "d"], ["etc/a", "f"], ["gone", "d"], ["gone/sub", "d"], ["gone/sub/x", "f"]]);
    const { script } = applyScript([entry("", "d"), entry("etc", "d"), entry("etc/a", "f"), entry("gone", "w")], lower, "/up", EPOCH);
    const lines = script.trim().split("\n");
    expect(lines.slice(0, 4)).to.deep.equal(['rm "/gone/sub/x"', 'rmdir "/gone/sub"', 'rmdir "/gone"', 'rm "/etc/a"']);
    expect(lines).to.include.members(['cd "/etc"', 'write "/up/etc/a" "a"', 'sif "/etc/a" mtime @50', 'sif "/etc/a" atime @50', 'sif "/etc" mode 040755']);
    expect(lines.some((l) => l.startsWith("mkdir"))).to.equal(false);
  });

  it("makes new directories before their files, links hard links once, and sets each kind's mode", () => {
    const lower = new Map<string, UpperEntry["type"]>([["", "d"]]);
    const { script, skipped } = applyScript([
      entry("n", "d"), entry("n/a", "f", { ino: 7, nlink: 2, mtime: 10 }), entry("n/b", "f", { ino: 7, nlink: 2 }),
      entry("n/fifo", "p"), entry("n/l", "l", { target: 'a "b"', mode: 0o777 }), entry("n/sock", "s"),
      entry("n/tty", "c", { rdev: { major: 5, minor: 0 } }),
      entry("n/cap", "f", { xattrs: [{ name: "security.capability", file: "/v/0" }] }),
    ], lower, "/up", EPOCH);
    const lines = script.trim().split("\n");
    const at = (l: string) => lines.indexOf(l);
    expect(at('mkdir "n"')).to.be.lessThan(at('cd "/n"'));
    expect(at('cd "/n"')).to.be.lessThan(at('write "/up/n/a" "a"'));
    expect(lines).to.include.members([
      'ln "/n/a" "/n/b"', 'sif "/n/a" links_count 2', 'sif "/n/a" mtime @10', 'mknod "fifo" p', 'sif "/n/fifo" mode 010644',
      'symlink "l" "a ""b"""', 'sif "/n/l" mode 0120777', 'mknod "tty" c 5 0', 'ea_set -f "/v/0" "/n/cap" "security.capability"',
    ]);
    expect(lines.filter((l) => l.startsWith('sif "/n/b"'))).to.deep.equal([]);
    expect(skipped).to.deep.equal(["/n/sock"]);
  });

  it("empties an opaque directory and replaces a file by a directory", () => {
    const lower = new Map<string, UpperEntry["type"]>([["", "d"], ["o", "d"], ["o/old", "f"], ["o/d", "d"], ["o/d/f", "f"], ["x", "f"]]);
    const { script } = applyScript([entry("o", "d", { opaque: true }), entry("o/new", "f"), entry("x", "d", { opaque: true })], lower, "/up", EPOCH);
    const lines = script.trim().split("\n");
    expect(lines.slice(0, 4)).to.deep.equal(['rm "/x"', 'rm "/o/old"', 'rm "/o/d/f"', 'rmdir "/o/d"']);
    expect(lines).to.include.members(['write "/up/o/new" "new"', 'mkdir "x"']);
    expect(lines).to.not.include('rmdir "/o"');
  });

  it("refuses a name debugfs cannot read, and quotes the rest", () => {
    expect(quoted('/a b"c')).to.equal('"/a b""c"');
    expect(() => quoted("/a\nb")).to.throw(/line break/);
  });

  it("reads getfattr's dump, its escaped names, and tells debugfs's errors from its chatter", () => {
    const dump = "# file: /u\ntrusted.overlay.impure=0x79\n\n# file: /u/a\\040b\nsecurity.capability=0x0100\n\n# file: /elsewhere\nuser.x=0x00\n";
    const map = parseGetfattr(dump, "/u");
    expect([...map.keys()]).to.deep.equal(["", "a b"]);
    expect(map.get("a b")).to.deep.equal([{ name: "security.capability", value: Buffer.from([1, 0]) }]);
    expect(debugfsErrors("debugfs 1.47.0 (5-Feb-2023)\nAllocated inode: 13\n\nrm: File not found by ext2_lookup\n")).to.deep.equal(["rm: File not found by ext2_lookup"]);
  });
});
