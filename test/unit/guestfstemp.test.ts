// The socket directories of killed libguestfs tools are removed, and nothing
// else: real Unix sockets, one held by a live process and one whose process
// has exited, with the kernel's /proc/net/unix deciding which is which.
import { expect } from "chai";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { guestfsToolEnv, heldSocketPaths, removeOrphanSocketDirs } from "../../provider/builder/backends/guestfstemp";

/** Node, binding a Unix socket at `file`, then either staying (listening) or exiting without removing it. */
const BIND = "const s = require('net').createServer().listen(process.argv[1], () => { if (process.argv[2] === 'exit') process.exit(0); else console.log('ready'); });";

function bindAndExit(file: string): void {
  const r = spawnSync(process.execPath, ["-e", BIND, file, "exit"], { encoding: "utf8" });
  expect(r.status, r.stderr).to.equal(0);
  expect(fs.lstatSync(file).isSocket()).to.equal(true);
}

function bindAndStay(file: string): Promise<ChildProcess> {
  const p = spawn(process.execPath, ["-e", BIND, file, "stay"], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    p.stdout!.once("data", () => resolve(p));
    p.once("exit", (code) => reject(new Error(`the listener exited ${code}`)));
  });
}

describe("libguestfs's temporary directories", () => {
  let root: string;
  let listener: ChildProcess | undefined;
  const dir = (name: string) => {
    fs.mkdirSync(path.join(root, name));
    return path.join(root, name);
  };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "vmi-gfs-"));
  });
  afterEach(() => {
    listener?.kill("SIGKILL");
    listener = undefined;
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("removes a socket directory whose guestfsd.sock no process holds, and keeps every other", async () => {
    const orphan = dir("libguestfsAb12Cd");
    bindAndExit(path.join(orphan, "guestfsd.sock"));
    bindAndExit(path.join(orphan, "console.sock"));
    const live = dir("libguestfsLive01");
    listener = await bindAndStay(path.join(live, "guestfsd.sock"));
    const notYet = dir("libguestfsEmpty1"); // its tool has not made its socket yet
    const withFile = dir("libguestfsFile01");
    bindAndExit(path.join(withFile, "guestfsd.sock"));
    fs.writeFileSync(path.join(withFile, "overlay1.qcow2"), "");
    const otherName = dir("libguestfs-other");
    bindAndExit(path.join(otherName, "guestfsd.sock"));
    const otherSocket = dir("libguestfsOther1");
    bindAndExit(path.join(otherSocket, "other.sock"));

    expect(heldSocketPaths().has(path.join(live, "guestfsd.sock")), "the live socket in /proc/net/unix").to.equal(true);
    expect(heldSocketPaths().has(path.join(orphan, "guestfsd.sock"))).to.equal(false);
    expect(removeOrphanSocketDirs(root)).to.deep.equal([orphan]);
    expect(fs.readdirSync(root).sort()).to.deep.equal(
      [live, notYet, withFile, otherName, otherSocket].map((d) => path.basename(d)).sort());

    // Once its process has ended, the live one is an orphan too.
    const exited = new Promise((r) => listener!.once("exit", r));
    listener.kill("SIGKILL");
    await exited;
    expect(removeOrphanSocketDirs(root)).to.deep.equal([live]);
    expect(removeOrphanSocketDirs(root)).to.deep.equal([]);
  });

  it("a missing root is no error", () => {
    expect(removeOrphanSocketDirs(path.join(root, "none"))).to.deep.equal([]);
  });

  it("points the tools' temporary directory into the build's work directory, and keeps the rest of their environment", () => {
    const work = dir("work");
    const env = guestfsToolEnv({ LIBGUESTFS_BACKEND: "direct", LIBGUESTFS_BACKEND_SETTINGS: "force_tcg" }, work);
    expect(env).to.deep.equal({ LIBGUESTFS_BACKEND: "direct", LIBGUESTFS_BACKEND_SETTINGS: "force_tcg", LIBGUESTFS_TMPDIR: path.join(work, "libguestfs") });
    expect(fs.statSync(env.LIBGUESTFS_TMPDIR).isDirectory()).to.equal(true);
  });
});
