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
  it("defer cp -pP of a file to its own path under DESTDIR into one copy, made before DESTDIR is read", () => {
    const dest = path.join(dir, "dest");
    const tmp = path.join(dir, "tmp");
    fs.mkdirSync(path.join(dest, dir, "real/sub"), { recursive: true });
    fs.mkdirSync(tmp);
    fs.writeFileSync(path.join(dir, "real/sub/mode.ko"), "z");
    fs.chmodSync(path.join(dir, "real/sub/mode.ko"), 0o751);
    fs.utimesSync(path.join(dir, "real/sub/mode.ko"), 1000000, 1000000);
    // With PATH empty until the flush, a deferred copy starts nothing; the
    // second copy of a file finds it made; a copy to another name is cp's own.
    const r = spawnSync("dash", ["-c", `. "$1"; DESTDIR=$2; p=$PATH; PATH=/nonexistent
      cp -pP "$3/real/sub/file.ko" "$DESTDIR/$3/real/sub/file.ko" && cp -pP "$3/real/sub/mode.ko" "$DESTDIR$3/real/sub/mode.ko" &&
      [ -e "$DESTDIR/$3/real/sub/file.ko" ] && [ ! -s "$DESTDIR/$3/real/sub/mode.ko" ] || exit 3
      PATH=$p; cp -pP "$3/plainfile" "$DESTDIR/other" && find "$DESTDIR" -newer "$DESTDIR" >/dev/null && [ ! -s "$4/pending" ]`,
    "sh", SHORTCUTS, dest, dir, tmp], { encoding: "utf8", env: { ...process.env, VM_IMAGES_INITRAMFS_TMP: tmp } });
    expect(r.status, r.stderr).to.equal(0);
    expect(fs.readFileSync(path.join(dest, dir, "real/sub/file.ko"), "utf8")).to.equal("x");
    expect(fs.readFileSync(path.join(dest, dir, "real/sub/mode.ko"), "utf8")).to.equal("z");
    const st = fs.statSync(path.join(dest, dir, "real/sub/mode.ko"));
    expect(st.mode & 0o7777).to.equal(0o751);
    expect(st.mtimeMs).to.equal(1000000000);
    expect(fs.readFileSync(path.join(dest, "other"), "utf8")).to.equal("y");
  });

  it("leave cp and modinfo to the programs without a directory of their own", () => {
    const dest = path.join(dir, "dest2");
    fs.mkdirSync(path.join(dest, dir, "real/sub"), { recursive: true });
    const r = spawnSync("dash", ["-c", `. "$1"; DESTDIR=$2; [ -z "$__vm_images_kver" ] && PATH=/nonexistent cp -pP "$3/real/sub/file.ko" "$DESTDIR/$3/real/sub/file.ko" 2>/dev/null`,
      "sh", SHORTCUTS, dest, dir], { encoding: "utf8", env: { ...process.env, VM_IMAGES_INITRAMFS_TMP: "" } });
    expect(r.status).to.not.equal(0);
  });

  it("answer modinfo -F firmware of a module as modinfo does, where the host has modules", function () {
    const version = fs.existsSync("/lib/modules") ? fs.readdirSync("/lib/modules").find((v) => fs.existsSync(path.join("/lib/modules", v, "kernel"))) : undefined;
    const modinfo = spawnSync("sh", ["-c", "command -v modinfo || command -v /sbin/modinfo"], { encoding: "utf8" });
    if (version === undefined || modinfo.status !== 0) this.skip();
    const tmp = fs.mkdtempSync(path.join(dir, "fw-"));
    // Every 10th module, and all it names firmware of: the function's answer, then the program's.
    const r = spawnSync("dash", ["-c", `PATH=$PATH:/sbin:/usr/sbin; s=$1; shift
      # As mkinitramfs reads it: with the kernel's version as its only argument.
      . "$s"; [ "$__vm_images_kver" = "$1" ] || exit 3; set -- "$1" "$1"
      command find "/lib/modules/$2" -type f -name '*.ko*' | LC_ALL=C sort | { n=0; while IFS= read -r m; do
        n=$((n + 1)); a=$(modinfo -k "$2" -F firmware "$m")
        if [ -n "$a" ] || [ $((n % 10)) -eq 0 ]; then f=$(command modinfo -k "$2" -F firmware "$m"); [ "$a" = "$f" ] || echo "differs: $m"; echo "checked $m"; fi
      done; }`, "sh", SHORTCUTS, version as string], { encoding: "utf8", env: { ...process.env, VM_IMAGES_INITRAMFS_TMP: tmp }, maxBuffer: 64 << 20 });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.not.contain("differs:");
    expect(r.stdout).to.contain("checked ");
  });
});
