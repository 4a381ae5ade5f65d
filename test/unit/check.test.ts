import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UNKNOWN } from "../../provider/model/diff";
import type { ImageInputs } from "../../provider/model/check";
import { checkImage } from "../../provider/pulumi/imageprovider";
import { parseStackConfig, StackConfigError } from "../../provider/model/stackconfig";

describe("Image check", () => {
  const base = (over: Partial<ImageInputs> = {}): ImageInputs => ({
    dir: "/images", name: "base.img", baseDir: os.tmpdir(), suite: "bookworm", backend: "guestfs", mergeSteps: true,
    localCopies: true, packages: ["curl"], actions: [], ...over,
  });

  it("computes the build key and file hashes", async () => {
    const r = await checkImage(base());
    expect(r.failures ?? []).to.deep.equal([]);
    expect(r.inputs!.buildKey).to.match(/^[0-9a-f]{64}$/);
    expect(r.inputs!.fileHashes).to.deep.equal({});
  });

  it("takes a snapshot as the mirror it pins (a time stamp is snapshot.debian.org's), and refuses both", async () => {
    const stamp = await checkImage(base({ snapshot: "20261201T000000Z" }));
    expect(stamp.failures ?? []).to.deep.equal([]);
    expect(stamp.inputs!.mirror).to.equal("https://snapshot.debian.org/archive/debian/20261201T000000Z/");
    const url = await checkImage(base({ snapshot: "https://mirror.example/debian/2026-12-01/" }));
    expect(url.inputs!.mirror).to.equal("https://mirror.example/debian/2026-12-01/");
    // The same URL as a mirror: another key, since a snapshot's images are told their Release files expired.
    expect(url.inputs!.buildKey).to.not.equal((await checkImage(base({ mirror: "https://mirror.example/debian/2026-12-01/" }))).inputs!.buildKey);
    expect(stamp.inputs!.buildKey).to.not.equal(url.inputs!.buildKey);
    const both = await checkImage(base({ snapshot: "20261201T000000Z", mirror: "http://m.example/debian" }));
    expect(both.failures).to.deep.equal([{ property: "snapshot", reason: 'image "base.img": snapshot: set either mirror or snapshot, not both (a snapshot is the mirror it pins)' }]);
  });

  it("leaves the build key unknown while the parent's digest is (preview of a rebuilt parent)", async () => {
    const r = await checkImage(base({ name: "c.qcow2", parent: "base.img", parentPath: UNKNOWN, parentBuildKey: UNKNOWN, parentDigest: UNKNOWN }));
    expect(r.inputs!.buildKey).to.equal(UNKNOWN);
    const known = await checkImage(base({ name: "c.qcow2", parent: "base.img", parentBuildKey: "ab".repeat(32), parentDigest: UNKNOWN }));
    expect(known.inputs!.buildKey).to.equal(UNKNOWN);
  });

  it("keys a derived image by its parent's content digest, not its parent's build key (early cutoff)", async () => {
    const derived = (over: Partial<ImageInputs>) => checkImage(base({ name: "c.qcow2", parent: "base.img", packages: [], ...over }));
    const key = async (over: Partial<ImageInputs>) => (await derived(over)).inputs!.buildKey;
    const d1 = `sha256:${"1".repeat(64)}`;
    const same = await key({ parentBuildKey: "ab".repeat(32), parentDigest: d1 });
    expect(await key({ parentBuildKey: "cd".repeat(32), parentDigest: d1 }), "another parent build key, same bytes").to.equal(same);
    expect(await key({ parentBuildKey: "ab".repeat(32), parentDigest: `sha256:${"2".repeat(64)}` }), "other bytes").not.to.equal(same);
    // A parent without a digest (published before digests, kept only in the registry): its build key stands in.
    expect(await key({ parentBuildKey: "ab".repeat(32) })).not.to.equal(await key({ parentBuildKey: "cd".repeat(32) }));
    // An external parent: by the key the program gives, else by its file's identity.
    expect(await key({ parentKey: "pulled sha256:1" })).not.to.equal(await key({ parentKey: "pulled sha256:2" }));
    expect((await derived({ parentKey: UNKNOWN })).inputs!.buildKey).to.equal(UNKNOWN);
  });

  it("keeps the reasons of a replacement through the engine's second check, which has no old inputs", async () => {
    const built = (await checkImage(base())).inputs!;
    const first = await checkImage(base({ packages: ["curl", "jq"] }), built);
    expect(first.inputs!.rebuildReasons).to.deep.equal(["packages changed"]);
    const second = await checkImage(base({ packages: ["curl", "jq"] }));
    expect(second.inputs!.rebuildReasons).to.deep.equal(["packages changed"]);
    expect((await checkImage(base({ packages: ["tree"] }))).inputs!.rebuildReasons).to.deep.equal([]);
  });

  const failures: [string, Partial<ImageInputs>, string, RegExp][] = [
    ["a relative dir", { dir: "images" }, "dir", /image "base\.img": dir: "images" must be an absolute directory path/],
    ["a bad suite", { suite: "Bookworm!" }, "suite", /suite: "Bookworm!" must be a Debian suite/],
    ["a bad mirror", { mirror: "deb.debian.org" }, "mirror", /mirror: must be an http/],
    ["an unknown backend", { backend: "vmware" }, "backend", /backend: "vmware" must be one of auto, guestfs, direct/],
    ["a bad package", { packages: ["no such"] }, "packages", /image "base\.img": packages\[0\]: "no such" is not a valid Debian package name/],
    ["an unknown action", { actions: [{ type: "explode" } as never] }, "actions", /image "base\.img": actions\[0\]\.type: unknown action type "explode"/],
    ["a missing local file", { actions: [{ type: "upload", file: "nope.sh", dest: "/x" }] }, "actions",
      /image "base\.img": actions\[0\] \(upload\)\.file: .*nope\.sh does not exist \(relative paths are resolved against/],
  ];
  for (const [what, over, property, reason] of failures) {
    it(`refuses ${what}, naming the image and field`, async () => {
      const r = await checkImage(base(over));
      expect(r.failures).to.have.length(1);
      expect(r.failures![0].property).to.equal(property);
      expect(r.failures![0].reason).to.match(reason);
    });
  }

  // Build keys of images built before: a change here rebuilds every existing image, so it must be a decision.
  const pinned: [string, Partial<ImageInputs>, string][] = [
    ["a root image", { packages: ["curl", "vim"], actions: [{ type: "run-command", cmd: "passwd -d root", comment: "c" }] },
      "e61abee672f1eefb3d4ad032d303f62f3e3f770bd05ac863f5a2cb74aa3f475e"],
    ["a root image with every setting", {
      name: "base.qcow2", suite: "trixie", backend: "direct", mergeSteps: false, mirror: "https://user:pw@mirror.example/debian",
      size: "10G", bootable: false, registry: "127.0.0.1:5000/team/images", tag: "main", verifyBoot: false, verbose: true,
      localCopies: false, insecureRegistry: true, rebuild: "1", packages: [],
    }, "73a91c4fc7fa5c8973b18f9999bcb5baca6ccc476647f0f5dac55b43e4cbddb8"],
    ["a derived image", {
      name: "k8s.qcow2", parent: "base.img", parentBuildKey: "ab".repeat(32), parentDigest: `sha256:${"cd".repeat(32)}`, packages: ["docker.io"], size: "+2G",
    }, "2d8eddf5495f338c473645b4b99f8d0325583d37f07eb3925d43a783b22ca2da"],
  ];
  for (const [what, over, key] of pinned) {
    it(`keeps the build key of ${what}`, async () => {
      const r = await checkImage(base({ baseDir: "/nonexistent", ...over }));
      expect(r.inputs!.buildKey).to.equal(key);
    });
  }

  it("hashes the local files an action reads", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-check-"));
    try {
      fs.writeFileSync(path.join(dir, "env.sh"), "X=1\n");
      const r = await checkImage(base({ baseDir: dir, actions: [{ type: "upload", file: "env.sh", dest: "/etc/env.sh" }] }));
      expect(Object.keys(r.inputs!.fileHashes)).to.deep.equal(["env.sh"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("stack config", () => {
  it("applies the defaults, resolving paths against the project", () => {
    expect(parseStackConfig({}, "/p")).to.deep.equal({
      imagesFile: "/p/examples/seed/images.json", dir: "/p/images", hostPaths: undefined, suite: "bookworm", mirror: undefined,
      arch: undefined, backend: "auto", mergeSteps: true, rebuild: undefined,
      pull: [], registry: undefined, tag: undefined, insecureRegistry: false, localCopies: true, layering: undefined, flatten: undefined, verifyBoot: undefined, verbose: false,
      followArchive: undefined, snapshot: undefined, network: undefined, allowHosts: undefined,
      buildMemory: undefined, buildTasks: undefined, buildCpus: undefined, buildTimeout: undefined, buildFileSize: undefined,
    });
  });

  it("reads the bounds of a build: sizes as given, counts as numbers", () => {
    const s = parseStackConfig({ "vm-images:buildMemory": "512M", "vm-images:buildTasks": "64", "vm-images:buildTimeout": "90s" }, "/p");
    expect(s).to.include({ buildMemory: "512M", buildTasks: 64, buildTimeout: "90s" });
  });

  it("reads verifyBoot and verbose as booleans", () => {
    const s = parseStackConfig({ "vm-images:verifyBoot": "false", "vm-images:verbose": "true" }, "/p");
    expect(s).to.include({ verifyBoot: false, verbose: true });
  });

  it("reads the registry keys: pull as a JSON list or separated by commas", () => {
    const s = parseStackConfig({
      "vm-images:pull": '["quay.io/lvh-images/kind:6.6-main","127.0.0.1:5000/a/b:v1"]',
      "vm-images:registry": "127.0.0.1:5000/team/images", "vm-images:tag": "main",
    }, "/p");
    expect(s).to.include({ registry: "127.0.0.1:5000/team/images", tag: "main", insecureRegistry: false });
    expect(s.pull).to.deep.equal(["quay.io/lvh-images/kind:6.6-main", "127.0.0.1:5000/a/b:v1"]);
    expect(parseStackConfig({ "vm-images:pull": "quay.io/a/b:1, quay.io/c/d:2" }, "/p").pull).to.deep.equal(["quay.io/a/b:1", "quay.io/c/d:2"]);
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ "vm-images:imageFile": "x" }, /unknown stack config key vm-images:imageFile; the keys are:\n {2}vm-images:imagesFile:/],
    [{ "vm-images:backend": "kvm" }, /vm-images:backend: "kvm" must be one of auto, guestfs, direct/],
    [{ "vm-images:mergeSteps": "yes" }, /vm-images:mergeSteps: "yes" must be true or false/],
    [{ "vm-images:suite": "Sid" }, /vm-images:suite: "Sid" must be a Debian suite/],
    [{ "vm-images:mirror": "mirror" }, /vm-images:mirror: must be an http/],
    [{ "vm-images:registry": "images" }, /vm-images:registry: "images": name the registry host/],
    [{ "vm-images:registry": "127.0.0.1:5000/team/images:v1" }, /must be a repository, without a tag/],
    [{ "vm-images:registry": "10.0.0.5:5000/team/images" }, /vm-images:registry: .*insecureRegistry/],
    [{ "vm-images:pull": "kind:6.6" }, /vm-images:pull: "kind:6.6": name the registry host/],
    [{ "vm-images:tag": "a b" }, /vm-images:tag: "a b" must be a tag/],
    [{ "vm-images:insecureRegistry": "yes" }, /must be true or false/],
    [{ "vm-images:verifyBoot": "yes" }, /vm-images:verifyBoot: "yes" must be true or false/],
    [{ "vm-images:verbose": "1" }, /vm-images:verbose: "1" must be true or false/],
    [{ "vm-images:localCopies": "no" }, /vm-images:localCopies: .*must be true or false/],
  ];
  for (const [config, message] of bad) {
    it(`refuses ${Object.keys(config)[0]}=${Object.values(config)[0]}`, () => {
      expect(() => parseStackConfig(config, "/p")).to.throw(StackConfigError, message);
    });
  }

  it("ignores other projects' keys", () => {
    expect(parseStackConfig({ "aws:region": "x" }, "/p").backend).to.equal("auto");
  });
});
