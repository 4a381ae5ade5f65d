// A mirror with credentials, set as a secret, through the real pulumi CLI
// and a real build: apt gets the credentials from auth.conf.d during the
// build, and they appear in clear text nowhere: not in the state, the stack
// file, the output, the logs, nor the image (whose apt sources name the
// mirror without them).
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { TestMirror } from "../support/mirror";
import { REPO, TestProject } from "./harness";

const PROGRAM = `module.exports = require(${JSON.stringify(path.join(REPO, "dist", "index.js"))});\n`;
const PASSWORD = "Mirr0r-e2e-S3cret";

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe("e2e: a mirror with credentials, set as a secret", function () {
  this.timeout(30 * 60_000);
  let mirror: TestMirror;
  let project: TestProject;

  before(async () => {
    mirror = await TestMirror.start({ credentials: { user: "mirroruser", password: PASSWORD } });
    project = await TestProject.create({ program: PROGRAM, config: { imagesFile: "images.json", dir: "images" } });
    await project.must("config", "set", "--stack", project.stack, "--secret", "vm-images:mirror", mirror.urlWithCredentials);
    fs.writeFileSync(path.join(project.dir, "images.json"), JSON.stringify([{ name: "base.qcow2", image_size: "1G", bootable: false, packages: [] }]));
  });
  after(async () => {
    await project?.dispose();
    await mirror?.close();
  });

  it("builds through the mirror with its credentials, and the password is nowhere in clear text", async () => {
    const up = await project.up();
    expect(mirror.authorized, "requests apt made with the credentials").to.be.greaterThan(0);
    const preview = await project.run("preview", "--stack", project.stack, "--diff");
    const exported = await project.must("stack", "export", "--stack", project.stack);
    const outputs = await project.run("stack", "output", "--stack", project.stack, "--json");
    for (const [what, text] of [["up", up.stdout + up.stderr], ["preview", preview.stdout + preview.stderr], ["state", exported.stdout], ["outputs", outputs.stdout]]) {
      expect(text, what).not.to.include(PASSWORD);
    }
    // The state keeps the mirror as a secret, and the image names it without credentials.
    expect(exported.stdout).to.include("4dabf18193072939515e22adb298388d");
    const files = [...filesUnder(project.dir).filter((f) => !f.includes(`${path.sep}node_modules`))];
    const image = path.join(project.dir, "images", "base.qcow2");
    expect(files).to.include(image);
    for (const file of files) expect(fs.readFileSync(file).includes(PASSWORD), file).to.equal(false);
    expect(fs.readFileSync(image).includes(`${mirror.url} bookworm`), "the image's sources name the mirror").to.equal(true);
  });
});
