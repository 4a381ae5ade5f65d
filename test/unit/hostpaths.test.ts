// Where an action may read on the build host: under the base directory (the
// images file's) or a directory of the hostPaths setting, judged after links
// are resolved; never /proc, /sys or /dev. Refused at the check (preview),
// and again as the build resolves and opens the path.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Action } from "../../provider/actions";
import { actionContexts } from "../../provider/builder/backends/actioncontext";
import { openUnmoved } from "../../provider/builder/sandbox/sandbox";
import type { ImageInputs } from "../../provider/model/check";
import { parseImageConfig } from "../../provider/model/config";
import { hostPathRefusal } from "../../provider/model/hostpaths";
import { checkImage } from "../../provider/pulumi/imageprovider";

describe("host paths of actions", () => {
  let tmp: string;
  let base: string;
  let outside: string;
  before(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-hostpaths-")));
    base = path.join(tmp, "project");
    outside = path.join(tmp, "elsewhere");
    fs.mkdirSync(path.join(base, "files"), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(base, "files", "env.sh"), "X=1\n");
    fs.writeFileSync(path.join(outside, "secret"), "s3cret\n");
    fs.symlinkSync(path.join(outside, "secret"), path.join(base, "files", "to-secret"));
    fs.symlinkSync("/proc/self/environ", path.join(base, "files", "to-environ"));
    fs.symlinkSync("env.sh", path.join(base, "files", "to-env"));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const image = (actions: Action[], over: Partial<ImageInputs> = {}): ImageInputs => ({
    dir: "/images", name: "base.img", baseDir: base, suite: "bookworm", backend: "guestfs", mergeSteps: true,
    localCopies: true, packages: [], actions, ...over,
  });
  const upload = (file: string): Action => ({ type: "upload", file, dest: "/etc/x" });
  /** The check's failure messages (none: the path is accepted). */
  const problems = async (actions: Action[], over: Partial<ImageInputs> = {}) =>
    ((await checkImage(image(actions, over))).failures ?? []).map((f) => f.reason);

  describe("the rule", () => {
    it("accepts a path under a root, and the root itself", () => {
      expect(hostPathRefusal("/srv/p/files/env.sh", ["/srv/p"])).to.equal(undefined);
      expect(hostPathRefusal("/srv/p", ["/srv/p"])).to.equal(undefined);
    });
    it("refuses a path beside a root, even one whose name starts like it", () => {
      expect(hostPathRefusal("/srv/p2/x", ["/srv/p"])).to.deep.equal({ outside: true });
      expect(hostPathRefusal("/srv/x", ["/srv/p"])).to.deep.equal({ outside: true });
    });
    it("accepts a name beginning with two dots inside a root", () => {
      expect(hostPathRefusal("/srv/p/..hidden", ["/srv/p"])).to.equal(undefined);
    });
    it("never reads /proc, /sys or /dev, even with / allowed", () => {
      expect(hostPathRefusal("/proc/1/environ", ["/"])).to.deep.equal({ never: "/proc" });
      expect(hostPathRefusal("/sys/kernel", ["/"])).to.deep.equal({ never: "/sys" });
      expect(hostPathRefusal("/dev/sda", ["/", "/dev"])).to.deep.equal({ never: "/dev" });
      expect(hostPathRefusal("/procfs/x", ["/"])).to.equal(undefined);
    });
  });

  describe("at the check (preview)", () => {
    it("accepts a file inside the images file's directory, and a link to one", async () => {
      expect(await problems([upload("files/env.sh"), upload("files/to-env"), { type: "copy-in", localPath: "files", remoteDir: "/root" }]))
        .to.deep.equal([]);
    });

    it("refuses ../ leading outside, naming the image, the action, the path and what to do", async () => {
      expect(await problems([upload("files/env.sh"), upload("../elsewhere/secret")])).to.deep.equal([
        `image "base.img": actions[1] (upload).file: "../elsewhere/secret" (${outside}/secret) is outside ${base}; ` +
          `move it under ${base}, or add its directory to the hostPaths setting (vm-images:hostPaths)`,
      ]);
    });

    it("refuses an absolute path outside", async () => {
      const [message] = await problems([{ type: "tar-in", tarFile: path.join(outside, "secret"), remoteDir: "/" }]);
      expect(message).to.match(/^image "base\.img": actions\[0\] \(tar-in\)\.tarFile: ".*secret" is outside /);
    });

    it("refuses a link inside that leads outside", async () => {
      const [message] = await problems([upload("files/to-secret")]);
      expect(message).to.include(`actions[0] (upload).file: "files/to-secret" (${outside}/secret) is outside ${base}`);
    });

    it("accepts a copy-in of a link leading outside: the link itself is copied, not what it leads to", async () => {
      const r = await checkImage(image([{ type: "copy-in", localPath: "files/to-secret", remoteDir: "/root" }]));
      expect(r.failures ?? []).to.deep.equal([]);
      expect(Object.keys(r.inputs!.fileHashes)).to.deep.equal(["files/to-secret"]);
      // ...but not one whose directory is outside.
      const [message] = await problems([{ type: "copy-in", localPath: "../elsewhere/secret", remoteDir: "/root" }]);
      expect(message).to.include('actions[0] (copy-in).localPath: "../elsewhere/secret"');
    });

    it("accepts what a directory of the hostPaths setting holds, directly or through a link", async () => {
      expect(await problems([upload("../elsewhere/secret"), upload("files/to-secret")], { hostPaths: [outside] })).to.deep.equal([]);
    });

    it("names the allowed directories when a path is outside them all", async () => {
      const [message] = await problems([upload("/etc/hostname")], { hostPaths: [outside] });
      expect(message).to.include(`is outside ${base} and the hostPaths setting (${outside}); move it under ${base}`);
    });

    it("refuses /proc/self/environ even with / allowed, written or through a link", async () => {
      expect(await problems([upload("/proc/self/environ"), upload("files/to-environ")], { hostPaths: ["/"] })).to.deep.equal([
        `image "base.img": actions[0] (upload).file: "/proc/self/environ" (/proc/${process.pid}/environ) is under /proc, ` +
          `which actions never read, even where the hostPaths setting allows it; copy what the image needs into ${base}`,
      ]);
      // (the check stops at the first refused path)
      const [message] = await problems([upload("files/to-environ")], { hostPaths: ["/"] });
      expect(message).to.include('(upload).file: "files/to-environ" (/proc/');
    });

    it("refuses /dev and /sys even with them allowed", async () => {
      const [dev] = await problems([{ type: "copy-in", localPath: "/dev/null", remoteDir: "/root" }], { hostPaths: ["/", "/dev"] });
      expect(dev).to.include('actions[0] (copy-in).localPath: "/dev/null" is under /dev, which actions never read');
      const [sys] = await problems([{ type: "install-kernel", kernelInstallDir: "/sys/kernel" }], { hostPaths: ["/"] });
      expect(sys).to.include('actions[0] (install-kernel).kernelInstallDir: "/sys/kernel" is under /sys');
    });

    it("refuses a relative entry of the hostPaths setting", async () => {
      expect(await problems([], { hostPaths: ["kernels"] })).to.deep.equal([
        'image "base.img": hostPaths: "kernels" must be an absolute directory path',
      ]);
    });
  });

  describe("as the build reads", () => {
    it("resolves and confines again: a link put in place of a checked file is refused", async () => {
      const dir = path.join(base, "swapped");
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, "f"), "ok\n");
      try {
        const img = parseImageConfig({ name: "base.img", actions: [upload("swapped/f")] });
        const contextOf = actionContexts({ image: img, baseDir: base, hostPaths: [] });
        expect(contextOf(0).resolve("swapped/f")).to.equal(path.join(dir, "f"));
        fs.rmSync(path.join(dir, "f"));
        fs.symlinkSync(path.join(outside, "secret"), path.join(dir, "f"));
        expect(() => contextOf(0).resolve("swapped/f")).to.throw(/actions\[0\] \(upload\)\.file: "swapped\/f" .* is outside/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("opens the resolved path only if nothing on the way became a link since", () => {
      const real = path.join(base, "moving");
      fs.mkdirSync(real);
      fs.writeFileSync(path.join(real, "f"), "ok\n");
      try {
        fs.closeSync(openUnmoved(path.join(real, "f")));
        // A directory on the way swapped for a link to elsewhere.
        fs.renameSync(real, `${real}.old`);
        fs.symlinkSync(outside, real);
        fs.writeFileSync(path.join(outside, "f"), "not ok\n");
        expect(() => openUnmoved(path.join(real, "f"))).to.throw(/changed while the build read it/);
        // The file itself swapped for a link.
        fs.rmSync(real);
        fs.renameSync(`${real}.old`, real);
        fs.rmSync(path.join(real, "f"));
        fs.symlinkSync(path.join(outside, "secret"), path.join(real, "f"));
        expect(() => openUnmoved(path.join(real, "f"))).to.throw(/became a symbolic link after it was checked/);
      } finally {
        fs.rmSync(real, { recursive: true, force: true });
        fs.rmSync(`${real}.old`, { recursive: true, force: true });
        fs.rmSync(path.join(outside, "f"), { force: true });
      }
    });
  });
});
