// Copy-on-write children with the real tools, on a forest shaped like
// lvh-images' kind images: a bootable root, a child with packages, and
// three grandchildren each installing another Debian kernel. Built as
// overlays and as flat files: the same content, a fraction of the bytes,
// bootable through the chain; a parent's file replaced leaves its children
// reading what they were built on; a missing or altered layer is named.
import { expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { directBackend } from "../../provider/builder/backends/direct";
import { guestfsBackend } from "../../provider/builder/backends/guestfs";
import { guestfsEnvironment } from "../../provider/builder/boot/accel";
import { memoryLogger } from "../../provider/builder/run/log";
import { cacheDir } from "../../provider/builder/cache/dirs";
import { contentDigest } from "../../provider/builder/image/digest";
import { backingFileOf, checkChain, sweepLayers } from "../../provider/builder/image/layers";
import { type BuiltImage, buildImage } from "../../provider/builder/image/safebuild";
import { type ImageConfigInput, parseImageConfig } from "../../provider/model/config";
import { layerName, parseLayerName } from "../../provider/model/layers";
import type { ImageOutputs } from "../../provider/builder/image/outputs";
import { publish } from "../../provider/builder/image/registry";
import { registrySession } from "../../provider/builder/oci/crane";
import { pullImages } from "../../provider/builder/oci/pull";
import { craneSync, TestRegistry } from "../support/registry";
import { bootToLogin, guestfishRead } from "../support/guest";
import { cloudKernels } from "../support/kernels";

describe("integration: copy-on-write children (layering overlay), a forest like lvh-images' kind images", function () {
  this.timeout(60 * 60_000);
  let work: string;
  const built: Record<string, BuiltImage> = {};
  const flatBuilt: Record<string, BuiltImage> = {};

  const build = (dir: string, config: ImageConfigInput, parentPath: string | undefined, layering: "flat" | "overlay", parentDigest?: string) =>
    buildImage({
      dir, image: parseImageConfig(config), parentPath, parentDigest, suite: "bookworm", baseDir: work, mergeSteps: true,
      backend: directBackend, guestfsEnv: {}, cacheDir: cacheDir(), signal: new AbortController().signal, layering,
    });
  const allocated = (file: string) => fs.statSync(file).blocks * 512;
  const compare = (a: string, b: string) => spawnSync("qemu-img", ["compare", a, b], { encoding: "utf8" });

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-layering-"));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("builds the forest as overlays: each holds what the flat build holds, in under a tenth of its bytes, and boots through its chain", async () => {
    const overlay = path.join(work, "overlay");
    const flat = path.join(work, "flat");
    const root = await build(overlay, { name: "base.img", actions: [{ type: "run-command", cmd: "passwd -d root" }] }, undefined, "overlay");
    const kind: ImageConfigInput = { name: "kind.qcow2", parent: "base.img", packages: ["docker.io", "golang-1.19-go"] };
    built["base.img"] = root;
    // Each image built both ways at once (siblings in a stack build so too): half the wait on two cores.
    const [overlayKind, flatKind] = await Promise.all([build(overlay, kind, root.path, "overlay", root.digest), build(flat, kind, root.path, "flat", root.digest)]);
    built["kind.qcow2"] = overlayKind;
    flatBuilt["base.img"] = root;
    flatBuilt["kind.qcow2"] = flatKind;
    expect(backingFileOf(built["kind.qcow2"].path)).to.equal(layerName("base.img", root.digest));
    expect(backingFileOf(flatKind.path)).to.equal(undefined);

    const kernels = cloudKernels();
    for (const [i, kernel] of kernels.entries()) {
      const name = `kind_${i}.qcow2`;
      const config: ImageConfigInput = { name, parent: "kind.qcow2", packages: [kernel] };
      const [overlayOne, flatOne] = await Promise.all([
        build(overlay, config, overlayKind.path, "overlay", overlayKind.digest), build(flat, config, flatKind.path, "flat", flatKind.digest),
      ]);
      built[name] = overlayOne;
      flatBuilt[name] = flatOne;
      expect(backingFileOf(built[name].path)).to.equal(layerName("kind.qcow2", built["kind.qcow2"].digest));
      const same = compare(built[name].path, flatOne.path);
      expect(same.stdout + same.stderr, `${name}: overlay against flat`).to.include("Images are identical");
      const share = allocated(built[name].path) / allocated(flatOne.path);
      expect(share, `${name}: its overlay's bytes against its flat file's`).to.be.lessThan(0.1);
      // The summary's "% of flat": the flat file the overlay was made from, the same bytes as the flat build.
      expect(built[name].flatBytes! / allocated(flatOne.path)).to.be.closeTo(1, 0.01);
    }
    const same = compare(built["kind.qcow2"].path, flatKind.path);
    expect(same.stdout + same.stderr, "kind.qcow2: overlay against flat").to.include("Images are identical");
    // The chain reads as one disk: a grandchild boots its own kernel, through kind.qcow2's and base.img's layers.
    // A cloud kernel has virtio drivers and no AHCI: booted from a virtio-scsi disk.
    const consoleText = await bootToLogin(built["kind_1.qcow2"].path, "qcow2", 8 * 60_000, path.join(work, "console.log"), "virtio-scsi");
    expect(consoleText).to.match(new RegExp(`Linux version ${kernels[1].replace("linux-image-", "").replace(/\./g, "\\.")}`));
  });

  it("publishes the overlays in under half the bytes of the flat files; a pull brings a grandchild's chain, and --flatten gives the flat build's bytes", async () => {
    const reg = await TestRegistry.start();
    try {
      const names = ["base.img", "kind.qcow2", "kind_0.qcow2", "kind_1.qcow2", "kind_2.qcow2"];
      const parentOf = (n: string) => (n === "base.img" ? undefined : n === "kind.qcow2" ? "base.img" : "kind.qcow2");
      // Both forests at once, each image after its parent (the parent's tag is how an overlay's parent is found).
      const publishForest = async (layering: "flat" | "overlay", images: Record<string, BuiltImage>) => {
        const repository = `${reg.host}/kind/${layering}`;
        // Build keys stand in for each image's.
        const keyOf = (n: string) => crypto.createHash("sha256").update(`${layering} ${n}`).digest("hex");
        let bytes = 0;
        for (const name of names) {
          const parent = parentOf(name);
          const session = registrySession();
          try {
            const outs = {
              name, path: images[name].path, registry: repository, buildKey: keyOf(name), digest: images[name].digest,
              parentBuildKey: parent && keyOf(parent), parentDigest: parent && images[parent].digest,
              suite: "bookworm", backend: "direct", logFile: path.join(work, `${layering}-${name}.publish.log`),
            } as unknown as ImageOutputs;
            const r = await publish(outs, session, undefined, memoryLogger());
            expect(r.publishError, `${layering} ${name}`).to.equal(undefined);
            const manifest = JSON.parse(craneSync(["manifest", r.published!])) as { layers: { size: number }[] };
            bytes += manifest.layers.reduce((sum, l) => sum + l.size, 0);
          } finally {
            session.close();
          }
        }
        return bytes;
      };
      const [flatBytes, overlayBytes] = await Promise.all([publishForest("flat", flatBuilt), publishForest("overlay", built)]);
      const pushed = { flat: flatBytes, overlay: overlayBytes };
      expect(pushed.overlay / pushed.flat, `bytes pushed: overlay ${pushed.overlay}, flat ${pushed.flat}`).to.be.lessThan(0.5);

      // A second runner: kind_1 alone into an empty directory; its parents come by digest.
      const repository = `${reg.host}/kind/overlay`;
      const key = crypto.createHash("sha256").update("overlay kind_1.qcow2").digest("hex");
      const pull = async (dir: string, flatten: boolean) => {
        const session = registrySession();
        try {
          return await pullImages({ ref: `${repository}:${key}`, dir, flatten, log: memoryLogger(), label: "pull", session });
        } finally {
          session.close();
        }
      };
      const chainDir = path.join(work, "pulled");
      const pulled = await pull(chainDir, false);
      const file = pulled.files[0].path;
      expect(await checkChain(file, "kind_1.qcow2")).to.deep.equal([
        path.join(chainDir, layerName("kind.qcow2", built["kind.qcow2"].digest)), path.join(chainDir, layerName("base.img", built["base.img"].digest)),
      ]);
      expect(compare(file, flatBuilt["kind_1.qcow2"].path).stdout).to.include("Images are identical");
      const flatDir = path.join(work, "pulled-flat");
      const flattened = await pull(flatDir, true);
      expect(backingFileOf(flattened.files[0].path)).to.equal(undefined);
      expect(await contentDigest(flattened.files[0].path)).to.equal(flatBuilt["kind_1.qcow2"].digest);
      expect(fs.readdirSync(flatDir).filter((f) => parseLayerName(f))).to.deep.equal([]);
    } finally {
      await reg.dispose();
    }
  });

  it("writes a guestfs backend child as an overlay too", async () => {
    const dir = path.join(work, "overlay");
    const root = path.join(dir, "base.img");
    const digest = await contentDigest(root);
    const guestEnv = (await guestfsEnvironment(cacheDir(), memoryLogger(), new AbortController().signal)).env;
    const child = await buildImage({
      dir, image: parseImageConfig({ name: "guestfs.qcow2", parent: "base.img", actions: [{ type: "run-command", cmd: "echo guestfs > /etc/guestfs-child" }] }),
      parentPath: root, parentDigest: digest, suite: "bookworm", baseDir: work, mergeSteps: true, backend: guestfsBackend, guestfsEnv: guestEnv,
      cacheDir: cacheDir(), signal: new AbortController().signal, layering: "overlay",
    });
    expect(backingFileOf(child.path)).to.equal(layerName("base.img", digest));
    expect(child.flatBytes).to.be.greaterThan(0);
    expect(allocated(child.path) / child.flatBytes!, "the overlay's bytes against its flat file's").to.be.lessThan(0.1);
    // Read through its chain: its own file, and its parent's.
    expect(await guestfishRead(child.path, [["cat", "/etc/guestfs-child"], ["is-file", "/usr/bin/dockerd"], ["is-file", "/etc/debian_version"]], true))
      .to.deep.equal(["guestfs", "false", "true"]);
    fs.rmSync(child.path);
  });

  it("keeps a grandchild reading its own parent's bytes when that parent's file is replaced, and sweeps the layer once nothing reads it", async () => {
    const dir = path.join(work, "overlay");
    const child = built["kind.qcow2"].path;
    const layer = path.join(dir, layerName("kind.qcow2", built["kind.qcow2"].digest));
    const before = await contentDigest(path.join(dir, "kind_0.qcow2"));
    // A parent rebuilt to other bytes: a new file under its name.
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", `${child}.new`, "1G"]);
    fs.renameSync(`${child}.new`, child);
    expect(sweepLayers(dir)).to.deep.equal([]);
    expect(fs.existsSync(layer)).to.equal(true);
    expect(await checkChain(path.join(dir, "kind_0.qcow2"), "kind_0.qcow2")).to.deep.equal([layer, path.join(dir, layerName("base.img", await contentDigest(path.join(dir, "base.img"))))]);
    const map = execFileSync("qemu-img", ["map", "--output=json", path.join(dir, "kind_0.qcow2")], { encoding: "utf8" });
    expect(JSON.parse(map).some((e: { data: boolean }) => e.data)).to.equal(true);
    expect(await contentDigest(path.join(dir, "kind_0.qcow2"))).to.equal(before);
    // Once no grandchild reads it, the old layer goes (base.img's goes too: only that layer read it).
    for (const n of ["kind_0.qcow2", "kind_1.qcow2", "kind_2.qcow2"]) fs.rmSync(path.join(dir, n));
    const removed = sweepLayers(dir);
    expect(removed).to.include(path.basename(layer));
    expect(fs.existsSync(layer)).to.equal(false);
  });

  it("names a missing or altered layer, and builds nothing on it", async () => {
    const dir = path.join(work, "chain");
    fs.mkdirSync(dir);
    // A small chain of its own: a raw parent and an overlay on it, made as a build makes them.
    const tree = path.join(work, "tree");
    fs.mkdirSync(tree, { recursive: true });
    fs.writeFileSync(path.join(tree, "hello"), "parent\n");
    const parent = path.join(dir, "p.img");
    execFileSync("mke2fs", ["-q", "-F", "-t", "ext4", "-d", tree, parent, "64M"]);
    const digest = await contentDigest(parent);
    const overlay = await build(dir, { name: "c.qcow2", parent: "p.img" }, parent, "overlay", digest);
    const layer = path.join(dir, layerName("p.img", digest));
    expect(backingFileOf(overlay.path)).to.equal(path.basename(layer));

    const failure = (config: ImageConfigInput, parentPath: string) => build(dir, config, parentPath, "flat").then(() => undefined, (e: Error) => e);
    fs.renameSync(layer, `${layer}.away`);
    let error = await failure({ name: "g.qcow2", parent: "c.qcow2" }, overlay.path);
    expect(error?.message).to.include(`its parent layer ${layer} is missing (the parent p.img at ${digest})`);
    expect(fs.existsSync(path.join(dir, "g.qcow2"))).to.equal(false);

    fs.renameSync(`${layer}.away`, layer);
    const fd = fs.openSync(layer, "r+");
    fs.writeSync(fd, Buffer.from("altered"), 0, 7, 4096 * 8);
    fs.closeSync(fd);
    error = await failure({ name: "g.qcow2", parent: "c.qcow2" }, overlay.path);
    expect(error?.message).to.match(new RegExp(`its parent layer ${layer.replace(/[.]/g, "\\.")} is altered: its content is sha256:[0-9a-f]{64}, its name says ${digest}`));
  });
});
