// The shell functions read into mkinitramfs during a build answer exactly as
// the programs they stand in for: same output and exit status for every
// call, whether they answer it or hand it on, on a tree with symbolic links.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const SHORTCUTS = path.resolve(__dirname, "..", "..", "..", "provider", "builder", "sh", "mkinitramfs-shortcuts.sh");

interface Answer { out: string; status: number | null }

/** Runs each call in dash, with the shortcuts sourced or not, and returns stdout and exit status per call. */
function answers(calls: string[][], withShortcuts: boolean, cwd: string): Answer[] {
  const script = [
    withShortcuts ? `. ${JSON.stringify(SHORTCUTS)}` : ":",
    'while IFS= read -r line; do eval "set -- $line"; out=$("$@" 2>/dev/null); printf "%s\\t%s\\0" "$?" "$out"; done',
  ].join("\n");
  const input = calls.map((c) => c.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ")).join("\n") + "\n";
  const r = spawnSync("dash", ["-c", script], { input, cwd, encoding: "utf8" });
  expect(r.status, r.stderr).to.equal(0);
  return r.stdout.split("\0").slice(0, -1).map((s) => {
    const tab = s.indexOf("\t");
    return { status: Number(s.slice(0, tab)), out: s.slice(tab + 1) };
  });
}

describe("mkinitramfs shortcuts", () => {
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-shortcuts-"));
    fs.mkdirSync(path.join(dir, "real/sub"), { recursive: true });
    fs.writeFileSync(path.join(dir, "real/sub/file.ko"), "x");
    fs.symlinkSync("real", path.join(dir, "linkdir"));
    fs.symlinkSync("sub/file.ko", path.join(dir, "real/filelink"));
    fs.symlinkSync("nowhere", path.join(dir, "real/dangling"));
    fs.symlinkSync("loop", path.join(dir, "real/loop"));
    fs.writeFileSync(path.join(dir, "plainfile"), "y");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("answer realpath, readlink and mkdir -p as the programs do, for every kind of path", () => {
    const d = dir;
    const paths = [
      `${d}/real/sub/file.ko`, `${d}/real/sub`, `${d}/real/sub/`, `/${d}/real/sub/file.ko`, `//${d}/real/sub/file.ko`,
      `${d}/real/./sub/file.ko`, `${d}/real/../real/sub/file.ko`, `${d}/real/sub/.`, `${d}/real/sub/..`,
      `${d}/linkdir/sub/file.ko`, `${d}/linkdir`, `${d}/real/filelink`, `${d}/real/dangling`, `${d}/real/loop`,
      `${d}/real/missing`, `${d}/missing/deeper`, `${d}/plainfile/under`, "/", "//", "/bin", "/bin/sh", "/lib",
      "real/sub/file.ko", "./real", "", `${d}/real with space`,
    ];
    const calls: string[][] = [];
    for (const p of paths) {
      for (const opts of [["-ms"], ["-s"], ["-m"], [], ["-e"]]) calls.push(["realpath", ...opts, p]);
      for (const opts of [["-f"], [], ["-e"], ["-m"], ["-n", "-f"]]) calls.push(["readlink", ...opts, p]);
    }
    calls.push(["realpath", "-ms", `${d}/real/sub/file.ko`, `${d}/real`], ["readlink", "-f", `${d}/real`, `${d}/linkdir`]);
    const plain = answers(calls, false, dir);
    const fast = answers(calls, true, dir);
    expect(fast).to.have.length(calls.length);
    calls.forEach((c, i) => expect(fast[i], c.join(" ")).to.deep.equal(plain[i]));
    // The calls mkinitramfs makes most are among those answered without a program.
    expect(plain[calls.findIndex((c) => c.join(" ") === `realpath -ms //${d}/real/sub/file.ko`)]).to.deep.equal({ status: 0, out: `${d}/real/sub/file.ko` });
  });

  it("answer the common calls without starting a program", () => {
    // With PATH empty, any call handed on fails: these must not be.
    const r = spawnSync("dash", ["-c", `. "$1"; PATH=/nonexistent
      a=$(realpath -ms "//$2/real/sub/file.ko") && b=$(realpath -s "$2/real/sub") && c=$(readlink -f /bin) &&
      d=$(readlink -f "$2/real/sub/file.ko") && mkdir -p "$2/real/sub" && printf '%s\\n' "$a" "$b" "$c" "$d" &&
      ! readlink -f "$2/linkdir/sub/file.ko" 2>/dev/null && ! mkdir -p "$2/new" 2>/dev/null`, "sh", SHORTCUTS, dir], { encoding: "utf8" });
    expect(r.status, r.stderr).to.equal(0);
    const bin = fs.realpathSync("/bin");
    expect(r.stdout.split("\n")).to.deep.equal([`${dir}/real/sub/file.ko`, `${dir}/real/sub`, bin, `${dir}/real/sub/file.ko`, ""]);
  });

  it("make directories as mkdir -p does", () => {
    const r = spawnSync("dash", ["-c", `. "$1"; mkdir -p "$2/made/deep" && mkdir -p "$2/made/deep" && mkdir -p "$2/linkdir/sub" && ! mkdir -p "$2/plainfile" 2>/dev/null`,
      "sh", SHORTCUTS, dir], { encoding: "utf8" });
    expect(r.status, r.stderr).to.equal(0);
    expect(fs.statSync(path.join(dir, "made/deep")).isDirectory()).to.equal(true);
  });
});
