// Following the Debian archive, through the real pulumi CLI and the direct
// backend: every image records what its own dpkg database holds (an SBOM
// that CycloneDX's published schema accepts, the same set `dpkg-query -W`
// lists inside the image, a child's adding exactly its own packages to its
// parent's), published as a layer crane fetches without the image. Then a
// signed apt repository of the test's own moves one package's version:
// without vm-images:followArchive nothing changes; with it, `preview` names
// exactly the images that contain the package, with both versions, `up`
// rebuilds only those, and an unchanged archive is a no-op. Debian's own
// indices are held still by a mirror that keeps the first answers it gave.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { craneBinary } from "../../provider/builder/oci/crane";
import { packageDelta, packageId } from "../../provider/model/dpkgstatus";
import { readSbom, sbomFileName } from "../../provider/model/sbom";
import { AptRepo } from "../support/aptrepo";
import { cycloneDxProblems } from "../support/cyclonedx";
import { guestfishRead } from "../support/guest";
import { TestMirror } from "../support/mirror";
import { hostAddress } from "../support/ports";
import { craneSync, TestRegistry } from "../support/registry";
import { opsByName, REPO, TestProject } from "./harness";

interface ImageOut {
  path: string;
  digest: string;
  sbom?: string;
  installedPackages?: { count: number; digest: string };
  published?: string;
  source: string;
}

const KEY_IN_IMAGE = "/usr/share/keyrings/vm-images-test.gpg";
const FORMAT = "${db:Status-Status} ${Package}:${Architecture} ${Version}\\n";

/** What dpkg-query lists as installed inside an image (guestfish runs it in the image), as name:arch version. */
async function dpkgQuery(image: string): Promise<string[]> {
  const [out] = await guestfishRead(image, [["sh", `dpkg-query -W -f '${FORMAT}'`]]);
  return out.split("\n").filter((l) => l.startsWith("installed ")).map((l) => l.slice("installed ".length)).sort();
}

const sbomRows = (file: string) => readSbom(fs.readFileSync(file, "utf8")).packages.map((p) => `${packageId(p)} ${p.version}`).sort();

describe("e2e: following the archive (SBOMs, followArchive, direct backend)", function () {
  this.timeout(40 * 60_000);
  let project: TestProject;
  let repo: AptRepo;
  let mirror: TestMirror;
  let reg: TestRegistry;
  const images = async () => (await project.outputs()).images as Record<string, ImageOut>;

  before(async () => {
    const address = hostAddress();
    repo = await AptRepo.create({ address, packages: [{ name: "vm-images-probe", version: "1.0" }, { name: "vm-images-other", version: "1.0" }] });
    mirror = await TestMirror.start({ freezeIndexes: true, address });
    reg = await TestRegistry.start();
    const forest = [
      {
        name: "base.img", image_size: "2G", bootable: false, packages: [],
        actions: [
          { type: "upload", op: { File: "repo-key.gpg", Dest: KEY_IN_IMAGE } },
          { type: "append-line", op: { File: "/etc/apt/sources.list.d/vm-images-test.list", Line: repo.sourcesLine(KEY_IN_IMAGE) } },
        ],
      },
      { name: "probe.qcow2", parent: "base.img", packages: ["vm-images-probe"] },
      { name: "other.qcow2", parent: "base.img", packages: ["vm-images-other"] },
      { name: "probe-child.qcow2", parent: "probe.qcow2", actions: [{ type: "run-command", op: { Cmd: "echo child > /etc/probe-child" } }] },
    ];
    project = await TestProject.create({
      program: `module.exports = require(${JSON.stringify(path.join(REPO, "dist", "index.js"))});\n`,
      files: { "images.json": JSON.stringify(forest, null, 2), "repo-key.gpg": "" },
      config: {
        imagesFile: "images.json", dir: "images", backend: "direct", mirror: mirror.url, allowHosts: address,
        verifyBoot: "false", registry: `${reg.host}/archive/images`,
      },
    });
    fs.copyFileSync(repo.keyFile, path.join(project.dir, "repo-key.gpg"));
  });
  after(async () => {
    await project?.dispose();
    await reg?.dispose();
    await mirror?.close();
    await repo?.close();
  });

  let first: Record<string, ImageOut>;
  it("records each image's packages: an SBOM valid against CycloneDX 1.5, the set dpkg-query lists inside, a child adding exactly its own", async () => {
    await project.up();
    first = await images();
    for (const [name, out] of Object.entries(first)) {
      expect(out.sbom, name).to.equal(sbomFileName(out.path));
      const doc = JSON.parse(fs.readFileSync(out.sbom!, "utf8")) as unknown;
      expect(cycloneDxProblems(doc), `${name}'s SBOM`).to.deep.equal([]);
      expect(readSbom(fs.readFileSync(out.sbom!, "utf8")).digest, name).to.equal(out.digest);
      expect(out.installedPackages?.count, name).to.equal(sbomRows(out.sbom!).length);
    }
    const inside = { base: await dpkgQuery(first["base.img"].path), probe: await dpkgQuery(first["probe.qcow2"].path) };
    expect(sbomRows(first["base.img"].sbom!)).to.deep.equal(inside.base);
    expect(sbomRows(first["probe.qcow2"].sbom!)).to.deep.equal(inside.probe);
    expect(inside.probe).to.include("vm-images-probe:all 1.0");
    // The child's SBOM adds to its parent's exactly what dpkg-query finds added inside, and changes nothing else.
    const parent = readSbom(fs.readFileSync(first["base.img"].sbom!, "utf8")).packages;
    const child = readSbom(fs.readFileSync(first["probe.qcow2"].sbom!, "utf8")).packages;
    const delta = packageDelta(parent, child);
    expect(delta.removed).to.deep.equal([]);
    expect(delta.changed).to.deep.equal([]);
    expect(delta.added.map((p) => `${packageId(p)} ${p.version}`).sort()).to.deep.equal(inside.probe.filter((r) => !inside.base.includes(r)));
    expect(delta.added.map((p) => p.name)).to.include("vm-images-probe");
  });

  it("publishes each SBOM as a layer of its own that crane fetches without the image", async () => {
    const published = first["probe.qcow2"].published!;
    const manifest = JSON.parse(craneSync(["manifest", published])) as { layers: { digest: string }[]; annotations: Record<string, string> };
    const layer = manifest.annotations["io.github.pulumi-vm-images.sbom"];
    expect(layer).to.equal(manifest.layers[manifest.layers.length - 1].digest);
    expect(manifest.annotations["io.github.pulumi-vm-images.installed-packages"]).to.equal(
      `${first["probe.qcow2"].installedPackages!.count} ${first["probe.qcow2"].installedPackages!.digest}`);
    const blob = execFileSync(craneBinary(), ["blob", `${published.split("@")[0]}@${layer}`]);
    const text = execFileSync("tar", ["-xzOf", "-", "data/sbom/probe.qcow2.cdx.json"], { input: blob, encoding: "utf8" });
    expect(text).to.equal(fs.readFileSync(first["probe.qcow2"].sbom!, "utf8"));
  });

  it("without followArchive, a newer version in the archive changes nothing", async () => {
    await repo.setVersion("vm-images-probe", "1.1");
    expect(opsByName(await project.preview(), "Image")).to.deep.equal({});
  });

  it("with followArchive, preview names exactly the images that contain the package, with both versions; up rebuilds only those", async () => {
    await project.setConfig("followArchive", "true");
    const started = Date.now();
    const r = await project.must("preview", "--stack", project.stack, "--diff");
    const seconds = (Date.now() - started) / 1000;
    console.log(`      preview after the version bump (${seconds.toFixed(1)} s):\n${r.stdout.split("\n").map((l) => `        ${l}`).join("\n")}`);
    const preview = await project.preview();
    expect(opsByName(preview, "Image")).to.deep.equal({ "probe.qcow2": "replace", "probe-child.qcow2": "replace" });
    // Each names the package and both versions (the child also waits for its parent's new bytes).
    expect(r.stdout.split("the archive has newer versions: vm-images-probe 1.0 -> 1.1").length - 1).to.equal(2);

    await project.up();
    const after = await images();
    for (const name of ["base.img", "other.qcow2"]) expect(after[name].digest, name).to.equal(first[name].digest);
    for (const name of ["probe.qcow2", "probe-child.qcow2"]) {
      expect(after[name].digest, name).to.not.equal(first[name].digest);
      expect(after[name].source, name).to.equal("built");
      expect(sbomRows(after[name].sbom!), name).to.include("vm-images-probe:all 1.1");
    }
    expect(await dpkgQuery(after["probe-child.qcow2"].path)).to.include("vm-images-probe:all 1.1");
  });

  it("is a no-op while the archive stays as it is", async () => {
    expect(opsByName(await project.preview(), "Image")).to.deep.equal({});
  });
});
