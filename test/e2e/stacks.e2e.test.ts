// The stacks shipped in the repository, through the real CLI: each previews
// one create per image of its images file; the ci stack builds, and an
// edited bootstrap script replaces exactly the images that read it and their
// descendants, with preview --diff naming the file and the parent.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { Forest as ImageForest } from "../../provider/model/forest";
import { loadLvhImagesFile } from "../../provider/model/imagesfile";
import { opsByName, REPO, TestProject } from "./harness";

/** The images file a shipped stack names. */
function imagesFileOf(stack: string): string {
  const m = /vm-images:imagesFile:\s*(\S+)/.exec(fs.readFileSync(path.join(REPO, `Pulumi.${stack}.yaml`), "utf8"));
  return path.join(REPO, m![1]);
}

describe("e2e: the shipped stacks", function () {
  this.timeout(40 * 60_000);

  for (const stack of ["dev", "ci", "ci-arm64"]) {
    it(`${stack}: a fresh preview lists one create per image of its images file, and builds nothing`, async () => {
      const project = await TestProject.fromRepo(stack);
      try {
        const names = ImageForest.of(loadLvhImagesFile(imagesFileOf(stack))).names();
        const preview = await project.preview();
        expect(opsByName(preview, "Image")).to.deep.equal(Object.fromEntries(names.map((n) => [n, "create"])));
        expect(fs.existsSync(path.join(project.dir, "images"))).to.equal(false);
      } finally {
        await project.dispose();
      }
    });
  }

  describe("ci: rebuilds what an edited bootstrap script reaches", () => {
    let project: TestProject;
    const script = (name: string) => path.join(project.dir, "examples", "ci", "bootstrap", name);

    before(async () => {
      // Three builds at once, more than this 2-core machine's default of one.
      project = await TestProject.fromRepo("ci", { VM_IMAGES_PARALLEL: "3" });
      // The boot check has its own test (progress.e2e.test.ts); this one is about rebuilds.
      await project.setConfig("verifyBoot", "false");
      await project.up();
    });
    after(async () => project?.dispose());

    it("exports each image's path, format, size, build key, backend and parent", async () => {
      const images = (await project.outputs()).images as Record<string, Record<string, unknown>>;
      expect(Object.keys(images).sort()).to.deep.equal(["base.qcow2", "bpf.qcow2", "net.qcow2", "router.qcow2"]);
      for (const [name, img] of Object.entries(images)) {
        expect(img.path).to.equal(path.join(project.dir, "images", "ci", name));
        expect(fs.statSync(img.path as string).size).to.equal(img.sizeBytes);
        expect(img).to.include({ format: "qcow2" });
        expect(img.buildKey).to.match(/^[0-9a-f]{64}$/);
        expect(img.backend).to.be.oneOf(["direct", "guestfs"]);
      }
      expect(images["router.qcow2"].parent).to.equal("net.qcow2");
      expect(images["base.qcow2"].parent).to.equal(undefined);
    });

    it("built the siblings net.qcow2 and bpf.qcow2 at the same time (VM_IMAGES_PARALLEL=3), as their logs show", () => {
      const span = (name: string) => {
        // Every log line starts with its time; a message of several lines continues without one.
        const times = fs.readFileSync(path.join(project.dir, "images", "ci", `${name}.log`), "utf8").split("\n")
          .map((l) => /^(\d{4}-\d\d-\d\dT\S+Z) /.exec(l)?.[1]).filter((t): t is string => !!t).map((t) => Date.parse(t));
        expect(times.length, `${name}.log lines`).to.be.greaterThan(10);
        return { start: Math.min(...times), end: Math.max(...times) };
      };
      const net = span("net.qcow2");
      const bpf = span("bpf.qcow2");
      expect(net.start < bpf.end && bpf.start < net.end, `net ${JSON.stringify(net)}, bpf ${JSON.stringify(bpf)}`).to.equal(true);
    });

    it("exports a summary per image; with vm-images:verifyBoot false, the bootable base.qcow2 was not booted", async () => {
      const summary = (await project.outputs()).summary as Record<string, Record<string, unknown>>;
      expect(Object.keys(summary).sort()).to.deep.equal(["base.qcow2", "bpf.qcow2", "net.qcow2", "router.qcow2"]);
      for (const s of Object.values(summary)) expect(s).to.include({ result: "built" });
      expect(summary["base.qcow2"].seconds).to.be.greaterThan(0);
      expect(summary["base.qcow2"].bootCheckSeconds).to.equal(undefined);
    });

    it("net.sh, read by net.qcow2's copy-in: net.qcow2 and router.qcow2 are replaced, and --diff says why", async () => {
      fs.appendFileSync(script("net.sh"), "echo edited >> /root/results/net\n");
      const preview = await project.preview();
      expect(opsByName(preview, "Image")).to.deep.equal({ "net.qcow2": "replace", "router.qcow2": "replace" });
      const diff = (await project.must("preview", "--stack", project.stack, "--diff")).stdout;
      expect(diff).to.include('"file bootstrap/net.sh changed"');
      // router.qcow2's parent is rebuilt: its bytes are known only once it is.
      expect(diff).to.include(`"parent's content may change (parent rebuilt)"`);
      expect(diff).to.match(/~ fileHashes\s*: \{[^}]*~ bootstrap\/net\.sh\s*:/);
      expect(diff).not.to.include('"actions changed"');
    });

    it("bpf.sh, uploaded by bpf.qcow2 and copied in by net.qcow2: both and router.qcow2", async () => {
      fs.appendFileSync(script("bpf.sh"), "echo edited >> /root/results/bpf\n");
      const preview = await project.preview();
      expect(opsByName(preview, "Image")).to.deep.equal({ "bpf.qcow2": "replace", "net.qcow2": "replace", "router.qcow2": "replace" });
    });
  });

  describe("ci-arm64: the ci images file for arm64 on this build host, three builds at once", () => {
    let project: TestProject;

    before(async () => {
      project = await TestProject.fromRepo("ci-arm64", { VM_IMAGES_PARALLEL: "3" });
    });
    after(async () => project?.dispose());

    it("refuses the guestfs backend at preview, naming the image and the arch setting", async () => {
      await project.setConfig("backend", "guestfs");
      const r = await project.run("preview", "--stack", project.stack);
      expect(r.code).to.not.equal(0);
      expect(r.stdout + r.stderr).to.match(/image "base\.qcow2": arch: "arm64" is not this host's architecture \(amd64\), and the guestfs backend builds only that one/);
      await project.must("config", "rm", "--stack", project.stack, "vm-images:backend");
    });

    it("builds every image for arm64, boots the bootable base under UEFI to a login prompt, and built the siblings at once", async () => {
      await project.up();
      const images = (await project.outputs()).images as Record<string, Record<string, unknown>>;
      expect(Object.keys(images).sort()).to.deep.equal(["base.qcow2", "bpf.qcow2", "net.qcow2", "router.qcow2"]);
      for (const img of Object.values(images)) {
        expect(img).to.include({ arch: "arm64", backend: "direct", format: "qcow2" });
        expect(img.path as string).to.include(path.join("images", "ci-arm64"));
      }
      const summary = (await project.outputs()).summary as Record<string, Record<string, unknown>>;
      for (const s of Object.values(summary)) expect(s).to.include({ result: "built", arch: "arm64" });
      const boot = summary["base.qcow2"].bootCheckSeconds as number;
      expect(boot, "the boot check's seconds").to.be.greaterThan(0);
      const log = fs.readFileSync(path.join(project.dir, "images", "ci-arm64", "base.qcow2.log"), "utf8");
      expect(log).to.match(/base\.qcow2 boot check \| login prompt after [\d.]+ s/);
      expect(log).to.match(/qemu-system-aarch64/);
      console.log(`      base.qcow2 (arm64): built in ${(summary["base.qcow2"].seconds as number).toFixed(1)} s, boot check ${boot.toFixed(1)} s`);
      const span = (name: string) => {
        const times = fs.readFileSync(path.join(project.dir, "images", "ci-arm64", `${name}.log`), "utf8").split("\n")
          .map((l) => /^(\d{4}-\d\d-\d\dT\S+Z) /.exec(l)?.[1]).filter((t): t is string => !!t).map((t) => Date.parse(t));
        return { start: Math.min(...times), end: Math.max(...times) };
      };
      const net = span("net.qcow2");
      const bpf = span("bpf.qcow2");
      expect(net.start < bpf.end && bpf.start < net.end, `net ${JSON.stringify(net)}, bpf ${JSON.stringify(bpf)}`).to.equal(true);
      // Another up changes nothing.
      expect(Object.entries(opsByName(await project.preview(), "Image")).filter(([, op]) => op !== "same")).to.deep.equal([]);
    });
  });
});
