// A parent image whose qcow2 header names a host file (a backing file or an
// external data file) is refused by both backends, with the real qemu-img,
// and nothing of the host file reaches a derived image; a standalone qcow2
// parent still builds.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { guestfsEnvironment } from "../../provider/builder/boot/accel";
import type { Backend } from "../../provider/builder/backends/backend";
import { directBackend } from "../../provider/builder/backends/direct";
import { guestfsBackend } from "../../provider/builder/backends/guestfs";
import { buildImage } from "../../provider/builder/image/safebuild";
import { cacheDir } from "../../provider/builder/cache/dirs";
import { memoryLogger } from "../../provider/builder/run/log";
import { type ImageConfigInput, parseImageConfig } from "../../provider/model/config";

describe("integration: parent images that name a host file", function () {
  this.timeout(10 * 60_000);
  let work: string;
  let guestfsEnv: Record<string, string>;
  const MARKER = "vm-images backing marker: host file\n";

  const build = (backend: Backend, dir: string, config: ImageConfigInput, parentPath: string) =>
    buildImage({
      dir, image: parseImageConfig(config), parentPath, suite: "bookworm", baseDir: work, mergeSteps: true,
      backend, guestfsEnv, cacheDir: cacheDir(), signal: new AbortController().signal,
    });
  const qemuImg = (...args: string[]) => execFileSync("qemu-img", args, { stdio: ["ignore", "pipe", "pipe"] });

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-backing-"));
    guestfsEnv = (await guestfsEnvironment(cacheDir(), memoryLogger(), new AbortController().signal)).env;
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  /** A raw ext4 file system holding /hello with `text`: what a parent's disk would be, or a host file that looks like one. */
  const fsImage = (name: string, text: string) => {
    const tree = path.join(work, `${name}.tree`);
    fs.mkdirSync(tree);
    fs.writeFileSync(path.join(tree, "hello"), text);
    const raw = path.join(work, name);
    execFileSync("mke2fs", ["-q", "-F", "-t", "ext4", "-d", tree, raw, "64M"], { stdio: "ignore" });
    return raw;
  };

  for (const backend of [directBackend, guestfsBackend]) {
    it(`${backend.name}: refuses a qcow2 parent whose backing file is a marker file, naming both; the marker is untouched`, async () => {
      // A host file that is a whole file system, so that a build that
      // followed the backing file would succeed, with the marker in it.
      const marker = fsImage(`marker-${backend.name}`, MARKER);
      const before = fs.readFileSync(marker);
      const parent = path.join(work, `backed-${backend.name}.qcow2`);
      qemuImg("create", "-q", "-f", "qcow2", "-b", marker, "-F", "raw", parent, "64M");
      const dir = path.join(work, `out-backed-${backend.name}`);
      let error: Error | undefined;
      await build(backend, dir, { name: "child.img" }, parent).catch((e: Error) => { error = e; });
      expect(error?.message).to.include(`image "child.img": parent ${parent} names a backing file (${marker}): refused`);
      expect(fs.existsSync(path.join(dir, "child.img"))).to.equal(false);
      expect(fs.readFileSync(marker).equals(before), "the marker file is unchanged").to.equal(true);
    });
  }

  it("direct: refuses a qcow2 parent whose data file is a host file", async () => {
    const data = path.join(work, "data-file");
    const parent = path.join(work, "data.qcow2");
    qemuImg("create", "-q", "-f", "qcow2", "-o", `data_file=${data},data_file_raw=on`, parent, "64M");
    fs.writeFileSync(data, MARKER); // what the parent's data file holds from now on
    const dir = path.join(work, "out-data");
    let error: Error | undefined;
    await build(directBackend, dir, { name: "child.img" }, parent).catch((e: Error) => { error = e; });
    expect(error?.message).to.include(`parent ${parent} names a data file (${data}): refused`);
    expect(fs.existsSync(path.join(dir, "child.img"))).to.equal(false);
    expect(fs.readFileSync(data, "utf8")).to.equal(MARKER);
  });

  for (const backend of [directBackend, guestfsBackend]) {
    it(`${backend.name}: a standalone qcow2 parent still builds, grown, with the parent's files`, async () => {
      const raw = fsImage(`fs-${backend.name}.raw`, "from the parent\n");
      const parent = path.join(work, `standalone-${backend.name}.qcow2`);
      qemuImg("convert", "-f", "raw", "-O", "qcow2", raw, parent);
      const built = await build(backend, path.join(work, `out-standalone-${backend.name}`), { name: "child.img", size: "+64M" }, parent);
      expect(fs.statSync(built.path).size).to.equal(128 * 2 ** 20);
      const hello = execFileSync("debugfs", ["-R", "cat /hello", built.path], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      expect(hello).to.equal("from the parent\n");
    });
  }
});
