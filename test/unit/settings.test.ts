// The settings table: each rule has one wording, in the stack config and in
// an Image's inputs alike; every problem is reported at once; and what the
// table says of a setting (in the build key or not) is what the code does.
import { expect } from "chai";
import * as os from "node:os";
import { ConfigErrors } from "../../provider/model/config";
import type { ImageInputs } from "../../provider/model/check";
import { checkImage } from "../../provider/pulumi/imageprovider";
import { SETTINGS, type SettingName, settingsWhere } from "../../provider/model/settings";
import { parseStackConfig, StackConfigError } from "../../provider/model/stackconfig";

const image = (over: Partial<ImageInputs> = {}): ImageInputs => ({
  dir: "/images", name: "base.img", baseDir: os.tmpdir(), suite: "bookworm", backend: "guestfs", mergeSteps: true,
  localCopies: true, packages: [], actions: [], ...over,
});

/** The messages of the StackConfigError a config throws. */
function stackProblems(config: Record<string, string>): string[] {
  try {
    parseStackConfig(config, "/p");
  } catch (err) {
    expect(err).to.be.instanceOf(StackConfigError);
    return (err as ConfigErrors).messages();
  }
  throw new Error("expected a StackConfigError");
}

describe("settings", () => {
  // A bad value of each setting that is both a stack key and an Image input: as stack config text, and as a program gives it.
  const bad: Partial<Record<SettingName, [string, unknown, string]>> = {
    suite: ["Sid", "Sid", '"Sid" must be a Debian suite or codename such as bookworm'],
    mirror: ["deb.debian.org", "deb.debian.org", "must be an http://, https:// or file:// URL"],
    backend: ["kvm", "kvm", '"kvm" must be one of auto, guestfs, direct'],
    arch: ["aarch64", "aarch64", '"aarch64" must be one of amd64, arm64, armhf, i386, ppc64el, riscv64, s390x'],
    mergeSteps: ["yes", "yes", '"yes" must be true or false'],
    registry: ["127.0.0.1:5000/team/images:v1", "127.0.0.1:5000/team/images:v1",
      '"127.0.0.1:5000/team/images:v1" must be a repository, without a tag or digest'],
    tag: ["a b", "a b", '"a b" must be a tag (^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$)'],
    insecureRegistry: ["1", "1", '"1" must be true or false'],
    verifyBoot: ["no", "no", '"no" must be true or false'],
    verbose: ["on", "on", '"on" must be true or false'],
    localCopies: ["off", "off", '"off" must be true or false'],
    network: ["open", "open", '"open" must be one of public, mirror, none'],
    allowHosts: ["10.0.0.1/33", ["10.0.0.1/33"], '"10.0.0.1/33" is not a host name, an IP address or a CIDR such as 10.1.0.0/16'],
    hostPaths: ["kernels", ["kernels"], '"kernels" must be an absolute directory path'],
    buildMemory: ["lots", "lots", '"lots" must be a size such as 512M, 4G or 1073741824'],
    buildTasks: ["many", "many", '"many" must be a whole number of at least 1'],
    buildCpus: ["0", "0", '"0" must be a whole number of at least 1'],
    buildTimeout: ["1d", "1d", '"1d" must be a duration such as 90s, 30m or 2h'],
    buildFileSize: ["-1", "-1", '"-1" must be a size such as 512M, 4G or 1073741824'],
    layering: ["cow", "cow", '"cow" must be one of flat, overlay'],
    flatten: ["yes", "yes", '"yes" must be true or false'],
    followArchive: ["weekly", "weekly", '"weekly" must be true or false'],
    snapshot: ["yesterday", "yesterday", '"yesterday" must be a snapshot.debian.org time stamp such as 20261201T000000Z, or a dated mirror\'s http(s) URL'],
  };
  // dir is resolved against the project in the stack config, and rebuild takes any text: neither has a bad stack value.
  const noBadStackValue = ["dir", "rebuild"];

  it("has a bad value for each setting of both kinds here", () => {
    const both = settingsWhere({ stack: true, image: ["required", "defaulted", "given"] });
    expect(Object.keys(bad).sort()).to.deep.equal(both.filter((s) => !noBadStackValue.includes(s)).sort());
  });

  for (const [name, [text, value, reason]] of Object.entries(bad)) {
    it(`words ${name}'s rule once: the stack config and the Image's check say the same`, async () => {
      expect(stackProblems({ [`vm-images:${name}`]: text })).to.deep.equal([`vm-images:${name}: ${reason}`]);
      const r = await checkImage(image({ [name]: value }));
      expect(r.failures).to.deep.equal([{ property: name, reason: `image "base.img": ${name}: ${reason}` }]);
    });
  }

  it("never quotes a mirror, which may hold a password", () => {
    expect(stackProblems({ "vm-images:mirror": "user:s3cret@mirror" }).join("\n")).not.to.include("s3cret");
  });

  it("reports every problem of a stack's config at once, in the table's order", () => {
    const [unknown, ...others] = stackProblems({
      "vm-images:verbose": "loud", "vm-images:backend": "nope", "vm-images:imageFile": "x", "vm-images:colour": "red",
      "vm-images:pull": "[1]",
    });
    expect(unknown).to.match(/^unknown stack config keys vm-images:imageFile, vm-images:colour; the keys are:\n {2}vm-images:imagesFile: /);
    expect(others).to.deep.equal([
      'vm-images:backend: "nope" must be one of auto, guestfs, direct',
      'vm-images:pull: "[1]" must be a list of references: a JSON array of strings, or references separated by commas or spaces',
      'vm-images:verbose: "loud" must be true or false',
    ]);
  });

  it("lists every stack key with its meaning and default when a key is unknown", () => {
    const [message] = stackProblems({ "vm-images:x": "1" });
    expect(message.split("\n").slice(1).map((l) => /^ {2}(vm-images:\w+): /.exec(l)?.[1]))
      .to.deep.equal(settingsWhere({ stack: true }).map((n) => `vm-images:${n}`));
    expect(message).to.include("  vm-images:backend: direct, guestfs or auto (default: auto: direct as root with its tools, else guestfs)");
  });

  it("reports every problem of an Image's inputs at once: settings and configuration", async () => {
    const r = await checkImage(image({ backend: "kvm", verbose: "yes" as never, size: "lots", actions: [{ type: "mkdir", dir: "etc" }] }));
    expect(r.failures).to.deep.equal([
      { property: "backend", reason: 'image "base.img": backend: "kvm" must be one of auto, guestfs, direct' },
      { property: "verbose", reason: 'image "base.img": verbose: "yes" must be true or false' },
      { property: "actions", reason: 'image "base.img": actions[0] (mkdir).dir: dir must be an absolute path inside the image' },
      { property: "size", reason: 'image "base.img": size: size must be a size guestfish takes, such as 8G, 8GiB, 8GB, 512M or 10737418240' },
    ]);
  });

  // Another value of each Image setting, and whether the build key must change with it.
  const changed: Record<string, unknown> = {
    dir: "/elsewhere", baseDir: "/elsewhere", suite: "trixie", mirror: "http://mirror.example/debian", backend: "direct",
    mergeSteps: false, rebuild: "2", registry: "127.0.0.1:5000/team/images", tag: "main", insecureRegistry: true,
    verifyBoot: false, verbose: true, localCopies: false, network: "mirror", allowHosts: ["10.1.0.0/16"], hostPaths: ["/elsewhere"],
    buildMemory: "512M", buildTasks: 64, buildCpus: 1, buildTimeout: "90s", buildFileSize: "1G", layering: "overlay", flatten: true,
    followArchive: true, snapshot: "20261201T000000Z", arch: "arm64",
  };
  // Layering decides the bytes of a derived qcow2 image only: such an image is its subject.
  // A foreign architecture is built by the direct backend only, on a host whose binfmt_misc runs it.
  const subjectOf = (name: string) => name === "layering"
    ? { name: "c.qcow2", parent: "base.img", parentBuildKey: "ab".repeat(32), parentDigest: `sha256:${"cd".repeat(32)}` }
    : name === "arch" ? { backend: "direct" } : {};
  const hostFor = (name: string) => name === "arch" ? { root: true, tools: new Set<string>(), native: "amd64", foreign: new Set(["arm64"]) } : undefined;

  it("has another value for each Image setting here", () => {
    expect(Object.keys(changed).sort()).to.deep.equal([...settingsWhere({ image: ["required", "defaulted", "given"] })].sort());
  });

  for (const [name, value] of Object.entries(changed)) {
    const inKey = (SETTINGS[name as SettingName] as { buildKey?: true }).buildKey === true;
    it(`${inKey ? "changes" : "keeps"} the build key when ${name} changes, as the table says`, async () => {
      const before = (await checkImage(image(subjectOf(name)), undefined, hostFor(name))).inputs!.buildKey;
      const after = (await checkImage(image({ ...subjectOf(name), [name]: value }), undefined, hostFor(name))).inputs!.buildKey;
      expect(after !== before).to.equal(inKey);
    });
  }
});
