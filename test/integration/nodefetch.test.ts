// Setup on a machine whose Node.js is too old: the real Node.js 24 from the
// npm registry, fetched by the real npm into an empty cache, checked, and
// linked where a project's npm scripts find it first.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { nodeLib } from "../support/toolchain";

describe("integration: Node.js from the npm registry", function () {
  this.timeout(5 * 60 * 1000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-nodefetch-"));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("is fetched once for a Node.js 20 machine, and npm scripts of the project run on it", () => {
    const machineDir = path.join(tmp, "usr-bin");
    fs.mkdirSync(machineDir);
    fs.writeFileSync(path.join(machineDir, "node"), "#!/bin/sh\necho v20.20.2\n", { mode: 0o755 });
    const cache = path.join(tmp, "cache");
    const logged: string[] = [];
    const choice = nodeLib.chooseNode({ envPath: machineDir, cache, log: (m) => logged.push(m) });

    const dir = nodeLib.providedNodeDir(cache);
    expect(choice).to.deep.include({ provided: true, version: `v${nodeLib.NODE_VERSION}`, bin: path.join(dir, "bin", "node") });
    expect(logged).to.have.length(1);
    expect(fs.readdirSync(path.join(cache, "node"))).to.deep.equal([path.basename(dir)]);
    expect(execFileSync(choice.bin, ["-p", "process.version"], { encoding: "utf8" }).trim()).to.equal(`v${nodeLib.NODE_VERSION}`);

    // Cached: the second setup fetches nothing.
    const again = nodeLib.chooseNode({ envPath: machineDir, cache, npm: path.join(tmp, "no-npm"), log: (m) => logged.push(m) });
    expect(again.bin).to.equal(choice.bin);
    expect(logged).to.have.length(1);

    // An npm script of a project finds it before the machine's node (PATH without this repository's link).
    const root = path.join(tmp, "project");
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(root, "package.json"), JSON.stringify({ name: "p", private: true, scripts: { v: "node -p process.version" } }));
    nodeLib.linkNode(root, choice, cache);
    const machinePath = (process.env.PATH ?? "").split(path.delimiter).filter((d) => !d.endsWith(path.join("node_modules", ".bin")));
    const out = execFileSync("npm", ["run", "-s", "v"], { cwd: root, encoding: "utf8", env: { ...process.env, PATH: machinePath.join(path.delimiter) } });
    expect(out.trim()).to.equal(`v${nodeLib.NODE_VERSION}`);
  });
});
