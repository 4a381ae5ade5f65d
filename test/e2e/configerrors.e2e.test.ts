// A user's mistakes through the real CLI: a bad images file or stack
// setting ends `pulumi preview` non-zero with one error per problem, every
// problem at once, each naming the file or key, the image and the field,
// and no stack trace or colour codes. Nothing is built: previews only.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { ACTION_TYPES } from "../../provider/actions";
import { type RunResult, TestProject } from "./harness";

/** The `error:` lines of the CLI's Diagnostics section, without their indentation. */
function diagnosticErrors(output: string): string[] {
  const diagnostics = output.slice(output.indexOf("\nDiagnostics:\n"));
  return diagnostics.split("\n").filter((l) => /^ {4}error: /.test(l)).map((l) => l.trim().slice("error: ".length));
}

/** A failed preview as a user sees it: non-zero, with no stack frame, no colour codes, no "unhandled exception". */
function expectCleanFailure(r: RunResult): string {
  const output = `${r.stdout}\n${r.stderr}`;
  expect(r.code, output).not.to.equal(0);
  expect(output).not.to.match(/^\s+at .*\(.*:\d+:\d+\)$/m);
  expect(output).not.to.include("\x1b[");
  expect(output).not.to.include("unhandled exception");
  return output;
}

describe("e2e: configuration errors, as the pulumi CLI shows them", function () {
  this.timeout(10 * 60_000);
  let project: TestProject;
  const preview = () => project.run("preview", "--stack", project.stack);

  before(async () => {
    project = await TestProject.fromRepo("dev");
  });
  after(async () => project?.dispose());
  afterEach(async () => {
    for (const key of ["vm-images:imagesFile", "vm-images:backend", "vm-images:colour", "vm-images:hostPaths"]) {
      await project.run("config", "rm", "--stack", project.stack, key);
    }
  });

  it("an images file with three mistakes in two images: all three, each naming the file, the image and the field", async () => {
    const file = path.join(project.dir, "mistakes.json");
    fs.writeFileSync(file, `${JSON.stringify([
      { name: "base.img", image_size: "8 gigs", packages: ["curl"], actions: [{ type: "run-command", op: { Cmd: "" } }] },
      { name: "k8s.qcow2", parent: "base.img", actions: [{ type: "run-comand", op: { Cmd: "true" } }] },
    ], null, 2)}\n`);
    await project.setConfig("imagesFile", "mistakes.json");
    const r = await preview();
    const output = expectCleanFailure(r);
    expect(diagnosticErrors(output)).to.deep.equal([
      `${file}: image "base.img": actions[0] (run-command).op.Cmd: Cmd must not be empty`,
      `${file}: image "base.img": image_size: image_size must be a size guestfish takes, such as 8G, 8GiB, 8GB, 512M or 10737418240`,
      `${file}: image "k8s.qcow2": actions[0].type: unknown action type "run-comand" (did you mean "run-command"?); expected one of ${ACTION_TYPES.join(", ")}`,
      "the configuration has 3 problems (above); nothing was changed",
    ]);
    // Nothing was registered but the stack itself.
    expect(output).not.to.include("vm-images:index:ImageForest");
    expect(fs.existsSync(path.join(project.dir, "images"))).to.equal(false);
  });

  it("local paths leading outside the images file's directory: the image, action and path, and nothing built", async () => {
    const dir = path.join(project.dir, "imgs");
    fs.mkdirSync(path.join(dir, "files"), { recursive: true });
    fs.writeFileSync(path.join(dir, "files", "env.sh"), "X=1\n");
    const outside = path.join(project.dir, "outside.txt");
    fs.writeFileSync(outside, "not for the image\n");
    fs.symlinkSync(outside, path.join(dir, "files", "link.txt"));
    await project.setConfig("imagesFile", "imgs/paths.json");
    const upload = (file: string) => ({ type: "upload", op: { File: file, Dest: "/etc/x" } });
    const todo = `move it under ${dir}, or add its directory to the hostPaths setting (vm-images:hostPaths)`;
    // The engine stops a preview at the first image its check refuses: one refused image per preview, beside one that reads inside.
    const cases: [string, object, RegExp | string][] = [
      ["up.img", { actions: [upload("files/env.sh"), upload("../outside.txt")] },
        `image "up.img": actions[1] (upload).file: "../outside.txt" (${outside}) is outside ${dir}; ${todo}`],
      ["link.img", { actions: [upload("files/link.txt")] },
        `image "link.img": actions[0] (upload).file: "files/link.txt" (${outside}) is outside ${dir}; ${todo}`],
      ["environ.img", { actions: [{ type: "tar-in", op: { TarFile: "/proc/self/environ", RemoteDir: "/" } }] },
        /image "environ\.img": actions\[0\] \(tar-in\)\.tarFile: "\/proc\/self\/environ" \(\/proc\/\d+\/environ\) is under \/proc, which actions never read/],
    ];
    for (const [name, image, message] of cases) {
      fs.writeFileSync(path.join(dir, "paths.json"), `${JSON.stringify([
        { name: "inside.img", actions: [upload("files/env.sh")] }, { name, ...image },
      ], null, 2)}\n`);
      const output = expectCleanFailure(await preview());
      const errors = diagnosticErrors(output);
      expect(errors, output).to.have.length(1);
      if (typeof message === "string") expect(errors[0]).to.include(message);
      else expect(errors[0]).to.match(message);
      expect(output).not.to.match(/image "inside\.img": actions/);
    }
    expect(fs.existsSync(path.join(project.dir, "images"))).to.equal(false);
  });

  it("a bad stack setting and an unknown key: both, each naming its key", async () => {
    await project.setConfig("backend", "nope");
    await project.setConfig("vm-images:colour", "red");
    const output = expectCleanFailure(await preview());
    const errors = diagnosticErrors(output);
    expect(errors).to.have.length(3);
    expect(errors[0]).to.equal("unknown stack config key vm-images:colour; the keys are:");
    expect(output).to.match(/^ {6}vm-images:imagesFile: lvh images\.json, read verbatim \(default: examples\/seed\/images\.json/m);
    expect(errors.slice(1)).to.deep.equal([
      'vm-images:backend: "nope" must be one of auto, guestfs, direct',
      "the configuration has 2 problems (above); nothing was changed",
    ]);
  });

  it("an images file that is not JSON: where it stops being JSON", async () => {
    const file = path.join(project.dir, "broken.json");
    fs.writeFileSync(file, '[\n  { "name": "base.img", }\n]\n');
    await project.setConfig("imagesFile", "broken.json");
    const output = expectCleanFailure(await preview());
    const [error, ...rest] = diagnosticErrors(output);
    // The words are V8's; the line and column are ours.
    expect(error.startsWith(`${file}: invalid JSON: `), error).to.equal(true);
    expect(error).to.match(/ \(line 2, column 25\)$/);
    expect(rest).to.deep.equal(["the configuration has a problem (above); nothing was changed"]);
  });
});
