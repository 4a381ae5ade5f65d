// The view of the build host that a root image's mmdebstrap runs in: the
// host's programs and a few files of /etc read-only, no account of the host
// but root's and apt's, the target read-write with /proc and device files,
// and a read-write directory never under a read-only one.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hostViewArgs } from "../../provider/builder/sandbox/hostview";

/** The options as [option, source, destination] triples (each used here takes two paths). */
function binds(args: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < args.length; i++) {
    if (["--bind", "--ro-bind", "--ro-bind-try", "--dev-bind", "--symlink"].includes(args[i])) {
      out.push(args.slice(i, i + 3));
      i += 2;
    } else if (["--dir", "--tmpfs", "--proc"].includes(args[i])) {
      out.push(args.slice(i, i + 2));
      i += 1;
    }
  }
  return out;
}

describe("hostview", () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-hostview-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("shows the host's programs and a few files of /etc read-only, and never its shadow files or keys", () => {
    const args = hostViewArgs({ target: "/w/target", ro: ["/w"], rw: ["/w/tmp"], debCache: "/c/debs" }, dir);
    const b = binds(args);
    expect(b).to.deep.include(["--ro-bind", "/usr", "/usr"]);
    const etc = b.filter((x) => x[x.length - 1].startsWith("/etc/")).map((x) => x[x.length - 1]);
    expect(etc).to.include.members(["/etc/apt/trusted.gpg.d", "/etc/dpkg", "/etc/ssl/certs", "/etc/passwd", "/etc/group", "/etc/ld.so.cache"]);
    for (const secret of ["/etc/shadow", "/etc/gshadow", "/etc/ssh", "/etc/sudoers", "/etc/machine-id", "/etc/ssl", "/etc/ssl/private", "/etc/apt",
      "/etc/apt/auth.conf", "/etc/apt/auth.conf.d", "/etc/apt/sources.list", "/etc/apt/sources.list.d"]) {
      expect(etc).not.to.include(secret);
    }
    for (const x of b.filter((x) => x[0] !== "--ro-bind" && x[0] !== "--ro-bind-try" && x[0] !== "--symlink" && x[1] !== undefined)) {
      // Writable: the view's own scratch, the target and what lies in it, the read-write directories.
      expect(x[x.length - 1], x.join(" ")).to.match(/^(\/etc|\/root|\/tmp|\/var\/tmp|\/w\/target|\/w\/tmp)(\/|$)/);
    }
    const passwd = fs.readFileSync(path.join(dir, "passwd"), "utf8").trim().split("\n").map((l) => l.split(":")[0]);
    expect(passwd).to.include("root");
    expect(passwd.every((u) => ["root", "_apt", "nobody"].includes(u))).to.equal(true);
  });

  it("binds the read-write directories after the read-only ones, and the target's /proc, devices and .deb cache after the target", () => {
    const args = hostViewArgs({ target: "/w/target", ro: ["/w"], rw: ["/w/tmp"], debCache: "/c/debs" }, dir);
    const at = (...x: string[]) => args.findIndex((_, i) => x.every((v, j) => args[i + j] === v));
    expect(at("--ro-bind", "/w", "/w")).to.be.below(at("--bind", "/w/tmp", "/w/tmp"));
    const target = at("--bind", "/w/target", "/w/target");
    expect(target).to.be.greaterThan(at("--tmpfs", "/tmp"));
    expect(at("--proc", "/w/target/proc")).to.be.greaterThan(target);
    expect(at("--dev-bind", "/dev/null", "/w/target/dev/null")).to.be.greaterThan(target);
    expect(at("--ro-bind", "/c/debs", "/w/target/var/cache/vm-images-debs")).to.be.greaterThan(target);
  });
});
