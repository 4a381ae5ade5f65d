// Architectures: which host builds which, in words that name the image and
// the setting; the binfmt_misc entry that says a host runs a foreign
// architecture; OCI platforms both ways.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ImageInputs } from "../../provider/model/check";
import { checkImage } from "../../provider/pulumi/imageprovider";
import { binfmtEntry, ociPlatform, platformText } from "../../provider/model/arch";
import { binfmtRuns } from "../../provider/builder/run/host";
import type { HostFacts } from "../../provider/model/host";

const image = (over: Partial<ImageInputs> = {}): ImageInputs => ({
  dir: "/images", name: "base.img", baseDir: os.tmpdir(), suite: "bookworm", backend: "direct", mergeSteps: true,
  localCopies: true, packages: [], actions: [], ...over,
});
const host = (foreign: string[]): HostFacts => ({ root: true, tools: new Set(), native: "amd64", foreign: new Set(foreign) });

describe("architectures", () => {
  it("refuses a foreign architecture with the guestfs backend, naming the image and the setting", async () => {
    const r = await checkImage(image({ arch: "arm64", backend: "guestfs" }), undefined, host(["arm64"]));
    expect(r.failures).to.have.length(1);
    expect(r.failures![0].property).to.equal("arch");
    expect(r.failures![0].reason).to.match(/^image "base\.img": arch: "arm64" is not this host's architecture \(amd64\), and the guestfs backend builds only that one/);
    expect(r.failures![0].reason).to.include("vm-images:backend to direct");
  });

  it("refuses a foreign architecture this host's binfmt_misc does not run, saying how to register it", async () => {
    const r = await checkImage(image({ arch: "arm64" }), undefined, host([]));
    expect(r.failures![0].reason).to.match(/^image "base\.img": arch: this host does not run arm64 binaries: binfmt_misc has no qemu-aarch64 interpreter/);
    expect(r.failures![0].reason).to.include("update-binfmts --enable qemu-aarch64");
  });

  it("builds arm64 with the direct backend where binfmt_misc runs it, under another build key than amd64", async () => {
    const arm = await checkImage(image({ arch: "arm64" }), undefined, host(["arm64"]));
    expect(arm.failures ?? []).to.deep.equal([]);
    const unset = await checkImage(image(), undefined, host(["arm64"]));
    const amd = await checkImage(image({ arch: "amd64" }), undefined, host(["arm64"]));
    expect(arm.inputs!.buildKey).to.not.equal(unset.inputs!.buildKey);
    // Unset is amd64: the keys of images built before the setting stay.
    expect(amd.inputs!.buildKey).to.equal(unset.inputs!.buildKey);
  });

  it("refuses a bootable image of an architecture that does not boot here", async () => {
    const r = await checkImage(image({ arch: "armhf", bootable: true }), undefined, host(["armhf"]));
    expect(r.failures![0].reason).to.equal('image "base.img": arch: "armhf" images cannot be bootable here (amd64 and arm64 can): set bootable to false');
    const arm = await checkImage(image({ arch: "arm64", bootable: true }), undefined, host(["arm64"]));
    expect(arm.failures ?? []).to.deep.equal([]);
  });

  it("reads binfmt_misc's entry: enabled, and with the F flag", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-binfmt-"));
    try {
      const entry = (flags: string, state = "enabled") =>
        fs.writeFileSync(path.join(dir, binfmtEntry("arm64")), `${state}\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: ${flags}\noffset 0\n`);
      expect(binfmtRuns("arm64", dir)).to.equal(false);
      entry("POCF");
      expect(binfmtRuns("arm64", dir)).to.equal(true);
      entry("POC");
      expect(binfmtRuns("arm64", dir)).to.equal(false);
      entry("F", "disabled");
      expect(binfmtRuns("arm64", dir)).to.equal(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names OCI platforms as registries and `--platform` do", () => {
    expect(ociPlatform("arm64")).to.deep.equal({ os: "linux", architecture: "arm64", variant: "v8" });
    expect(platformText("amd64")).to.equal("linux/amd64");
    expect(platformText("arm64")).to.equal("linux/arm64/v8");
  });
});
