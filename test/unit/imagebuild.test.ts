// The last moment of a build: an image that is built but no longer wanted
// (the engine went away while it ran) never replaces the previous one; one
// that is kept is on the disk before it is named, and its name before the
// build returns (as strace sees the system calls).
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { Backend } from "../../provider/builder/backends/backend";
import { buildImage } from "../../provider/builder/image/safebuild";
import { engineGone } from "../../provider/builder/run/interrupt";
import { InterruptedError } from "../../provider/builder/run/steps";
import { parseImageConfig } from "../../provider/model/config";

/** A backend whose one step writes the new image's bytes. */
const writing: Backend = {
  name: "direct",
  steps: (build) => [{ name: "write the image", do: async () => fs.writeFileSync(build.target, "new image") }],
};

describe("buildImage's last moment", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-commit-"));
    fs.writeFileSync(path.join(dir, "a.img"), "previous image");
    fs.writeFileSync(path.join(dir, "a.img.log"), "previous log\n");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const request = (controller: AbortController, beforeCommit?: () => Promise<void>) => ({
    dir, image: parseImageConfig({ name: "a.img", size: "1G" }), suite: "bookworm", baseDir: dir,
    mergeSteps: true, backend: writing, guestfsEnv: {}, cacheDir: dir, signal: controller.signal, beforeCommit,
  });

  it("keeps the previous image and log, and no temp file, when the build is aborted before it is put in place", async () => {
    const controller = new AbortController();
    let asked = 0;
    const err = await buildImage(request(controller, async () => {
      asked++;
      controller.abort();
    })).then(() => undefined, (e: unknown) => e);
    expect(asked).to.equal(1);
    expect(err).to.be.instanceOf(InterruptedError);
    expect(fs.readFileSync(path.join(dir, "a.img"), "utf8")).to.equal("previous image");
    expect(fs.readFileSync(path.join(dir, "a.img.log"), "utf8")).to.equal("previous log\n");
    expect(fs.readdirSync(dir).sort()).to.deep.equal(["a.img", "a.img.log"]);
  });

  it("puts the image in place when the engine is still there", async () => {
    const built = await buildImage(request(new AbortController(), async () => {}));
    expect(fs.readFileSync(built.path, "utf8")).to.equal("new image");
    expect(fs.readdirSync(dir).sort()).to.deep.equal(["a.img", "a.img.log"]);
  });
});

describe("buildImage's flush", () => {
  it("flushes the image, renames it into place, then flushes its directory, in that order (strace)", function () {
    this.timeout(60_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-flush-"));
    try {
      // The build above (a backend writing the image's bytes), in a process of its own under strace.
      const script = path.join(dir, "build.js");
      fs.writeFileSync(script, `
        const fs = require("node:fs");
        const { buildImage } = require(${JSON.stringify(require.resolve("../../provider/builder/image/safebuild"))});
        const { parseImageConfig } = require(${JSON.stringify(require.resolve("../../provider/model/config"))});
        const dir = ${JSON.stringify(path.join(dir, "images"))};
        buildImage({ dir, image: parseImageConfig({ name: "a.img", size: "1G" }), suite: "bookworm", baseDir: dir, mergeSteps: true,
          backend: { name: "direct", steps: (b) => [{ name: "write", do: async () => fs.writeFileSync(b.target, "new image") }] },
          guestfsEnv: {}, cacheDir: dir, signal: new AbortController().signal }).then(() => {}, (e) => { console.error(e); process.exit(1); });
      `);
      const trace = path.join(dir, "trace");
      execFileSync("strace", ["-f", "-qq", "-y", "-o", trace, "-e", "trace=fsync,fdatasync,rename,renameat,renameat2", process.execPath, script]);
      const images = path.join(dir, "images");
      const calls = fs.readFileSync(trace, "utf8").split("\n")
        .map((l) => l.replace(/^\d+ +/, ""))
        .filter((l) => l.includes(`${images}/.a.img.building-`) || l.includes(`<${images}>`));
      expect(calls.map((l) => l.replace(/\.building-\d+/g, ".building").replace(/^(\w+)\(\d+</, "$1(<").replace(/\) += 0$/, ")"))).to.deep.equal([
        `fsync(<${images}/.a.img.building>)`,
        `rename("${images}/.a.img.building", "${images}/a.img")`,
        `fsync(<${images}>)`,
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("engineGone", () => {
  it("is false while the engine's port listens, true once it is closed", async () => {
    const server = net.createServer((sock) => sock.destroy());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    const addr = { host: "127.0.0.1", port, target: `127.0.0.1:${port}` };
    expect(await engineGone(addr)).to.equal(false);
    await new Promise((r) => server.close(r));
    expect(await engineGone(addr)).to.equal(true);
  });
});
