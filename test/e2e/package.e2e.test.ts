// The package as a library: `npm pack` gives a tarball that a separate
// TypeScript Pulumi program installs next to its own @pulumi/pulumi (one copy
// of the SDK: ours is a peer dependency), compiles against, and previews.
// Both ends of the peer range are held: its lowest version, and the newest
// the registry serves within it (what `npm install @pulumi/pulumi` gives a
// user today).
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { opsByName, REPO, runCommand, TestProject } from "./harness";

const PROGRAM_TS = `
import * as pulumi from "@pulumi/pulumi";
import { ImageForest, type ImageConfigInput } from "pulumi-vm-images";

const images: ImageConfigInput[] = [
  { name: "base.img", bootable: false, packages: ["curl"] },
  { name: "child.qcow2", parent: "base.img", actions: [{ type: "run-command", cmd: "true" }] },
];
const forest = new ImageForest("images", { images, dir: "images" });
export const buildKeys = Object.fromEntries(Object.entries(forest.images).map(([n, i]) => [n, i.buildKey]));
pulumi.log.info(\`sdk \${require("@pulumi/pulumi/package.json").version} on node \${process.version}\`);
`;

const manifest = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as {
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const PEER_RANGE = manifest.peerDependencies["@pulumi/pulumi"];
const DEV_VERSION = manifest.devDependencies["@pulumi/pulumi"];

/** The peer range's lowest version: it reads ">=X.Y.Z <N", nothing looser. */
function lowestInRange(range: string): string {
  const m = /^>=(\d+\.\d+\.\d+) <(\d+)$/.exec(range);
  if (!m) throw new Error(`the peer range of @pulumi/pulumi is "${range}": write it as ">=X.Y.Z <MAJOR"`);
  return m[1];
}

/** Compares two x.y.z versions. */
function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** The newest @pulumi/pulumi the registry serves within the range. */
async function newestInRange(range: string): Promise<string> {
  const r = await runCommand("npm", ["view", `@pulumi/pulumi@${range}`, "version", "--json"], { env: process.env });
  expect(r.code, r.stderr).to.equal(0);
  const versions = ([] as string[]).concat(JSON.parse(r.stdout) as string | string[]);
  return versions.sort(compareVersions).at(-1)!;
}

let tarball: string;

function packedProgram(end: string, sdkVersion: () => Promise<string>): void {
  describe(`with ${end} @pulumi/pulumi`, function () {
    this.timeout(10 * 60 * 1000);
    let project: TestProject;
    let sdk: string;

    before(async () => {
      sdk = await sdkVersion();
      project = await TestProject.create({
        program: "", // compiled from index.ts below
        files: { "index.ts": PROGRAM_TS },
        dependencies: { "pulumi-vm-images": `file:${tarball}`, "@pulumi/pulumi": sdk },
      });
      const tsc = await runCommand(process.execPath, [
        path.join(REPO, "node_modules", "typescript", "bin", "tsc"),
        "--strict", "--module", "commonjs", "--target", "ES2022", "--moduleResolution", "node", "--esModuleInterop",
        "--skipLibCheck", "--types", "node", "--typeRoots", path.join(REPO, "node_modules", "@types"), "index.ts",
      ], { cwd: project.dir, env: process.env });
      expect(tsc.code, `tsc: ${tsc.stdout}${tsc.stderr}`).to.equal(0);
    });
    after(async () => project?.dispose());

    it("ships the compiled library, its shell scripts and no tests", () => {
      const pkg = path.join(project.dir, "node_modules", "pulumi-vm-images");
      expect(fs.existsSync(path.join(pkg, "dist", "provider", "index.d.ts"))).to.equal(true);
      expect(fs.existsSync(path.join(pkg, "provider", "builder", "sh", "sandbox-run.sh"))).to.equal(true);
      expect(fs.existsSync(path.join(pkg, "provider", "actions", "sh", "upload.sh"))).to.equal(true);
      expect(fs.existsSync(path.join(pkg, "dist", "test"))).to.equal(false);
    });

    it("shares the program's one copy of @pulumi/pulumi", () => {
      const installed = JSON.parse(fs.readFileSync(path.join(project.dir, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as { version: string };
      expect(installed.version).to.equal(sdk);
      expect(fs.existsSync(path.join(project.dir, "node_modules", "pulumi-vm-images", "node_modules", "@pulumi"))).to.equal(false);
    });

    it("previews an ImageForest through the real CLI, on that SDK and the tests' Node.js", async () => {
      const preview = await project.preview();
      expect(opsByName(preview, "Image")).to.deep.equal({ "base.img": "create", "child.qcow2": "create" });
      expect(opsByName(preview, "ImageForest")).to.deep.equal({ images: "create" });
      const said = (preview.diagnostics ?? []).map((d) => d.message.trim());
      expect(said).to.include(`sdk ${sdk} on node ${process.version}`);
    });
  });
}

describe("e2e: the packed package in a program of its own", function () {
  this.timeout(5 * 60 * 1000);
  let work: string;
  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-pack-"));
    const pack = await runCommand("npm", ["pack", "--json", "--pack-destination", work], { cwd: REPO, env: process.env });
    expect(pack.code, pack.stderr).to.equal(0);
    tarball = path.join(work, (JSON.parse(pack.stdout) as { filename: string }[])[0].filename);
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  packedProgram("the oldest supported", async () => lowestInRange(PEER_RANGE));
  packedProgram("the newest", async () => {
    const newest = await newestInRange(PEER_RANGE);
    expect(compareVersions(newest, DEV_VERSION), `the newest in ${PEER_RANGE} is ${newest}, older than the development one`).to.be.at.least(0);
    return newest;
  });
});
