// Which Node.js the project runs on (scripts/lib/node.js): the machine's
// when it is 22 or newer, else the one setup provides, linked where npm
// scripts find it first. Machines are faked with `node` scripts that print a
// version; fetching the real one is test/integration/nodefetch.test.ts.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { nodeLib, REPO_ROOT } from "../support/toolchain";

/** A directory holding a `node` that says it is `version`. */
function fakeNode(parent: string, name: string, version: string): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "node"), `#!/bin/sh\necho ${version}\n`, { mode: 0o755 });
  return dir;
}

describe("the Node.js the project runs on", () => {
  let tmp: string;
  let cache: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-node-"));
    cache = path.join(tmp, "cache");
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("is supported from Node.js 22 on", () => {
    expect(nodeLib.MIN_NODE_MAJOR).to.equal(22);
    expect(["v20.20.2", "v21.7.3", "v22.0.0", "v24.22.3", "v26.10.0", "", "node"].map(nodeLib.supported))
      .to.deep.equal([false, false, true, true, true, false, false]);
    expect(nodeLib.nodeMajor("v24.22.3")).to.equal(24);
  });

  it("provides an LTS release, 24", () => {
    expect(nodeLib.nodeMajor(nodeLib.NODE_VERSION)).to.equal(24);
    expect(nodeLib.providedNodeDir(cache)).to.equal(path.join(cache, "node", `v${nodeLib.NODE_VERSION}-${process.platform}-${process.arch}`));
  });

  it("finds the machine's node past project links and the one setup provided", () => {
    const bin = fakeNode(tmp, path.join("project", "node_modules", ".bin"), "v24.0.0");
    const provided = fakeNode(cache, path.join("node", "v24.22.3-linux-x64", "bin"), "v24.22.3");
    const machine = fakeNode(tmp, "usr-bin", "v20.20.2");
    const envPath = [bin, provided, path.join(tmp, "missing"), machine].join(path.delimiter);
    expect(nodeLib.machineNode(envPath, cache)).to.deep.equal({ bin: path.join(machine, "node"), version: "v20.20.2" });
    expect(nodeLib.machineNode([bin, provided].join(path.delimiter), cache)).to.equal(null);
  });

  it("keeps a machine's Node.js 22 or newer, fetching nothing", () => {
    const machine = fakeNode(tmp, "usr-bin", "v22.12.0");
    const logged: string[] = [];
    const choice = nodeLib.chooseNode({ envPath: machine, cache, npm: "/nonexistent/npm", log: (m) => logged.push(m) });
    expect(choice).to.deep.include({ bin: path.join(machine, "node"), version: "v22.12.0", provided: false });
    expect(logged).to.deep.equal([]);
    expect(fs.existsSync(path.join(cache, "node"))).to.equal(false);
  });

  it("fails on an older machine with the npm command that could not fetch, and leaves no partial download", () => {
    const machine = fakeNode(tmp, "usr-bin", "v20.20.2");
    const logged: string[] = [];
    expect(() => nodeLib.chooseNode({ envPath: machine, cache, npm: path.join(tmp, "no-npm"), log: (m) => logged.push(m) }))
      .to.throw(/no-npm/);
    expect(logged).to.have.length(1);
    expect(logged[0]).to.match(/^Node\.js v20\.20\.2 is older than 22: fetching Node\.js 24\.\d+\.\d+ from the npm registry into /);
    expect(fs.readdirSync(path.join(cache, "node"))).to.deep.equal([]);
  });

  it("links the provided Node.js as node_modules/.bin/node, and removes only its own link when the machine's will do", () => {
    const root = path.join(tmp, "project");
    const provided = fakeNode(cache, path.join("node", "v24.22.3-linux-x64", "bin"), "v24.22.3");
    const choice = { bin: path.join(provided, "node"), binDir: provided, version: "v24.22.3", provided: true, machine: null };
    nodeLib.linkNode(root, choice, cache);
    expect(fs.readlinkSync(nodeLib.nodeLink(root))).to.equal(path.join(provided, "node"));
    expect(nodeLib.providedBinDir(root, cache)).to.equal(provided);
    expect(nodeLib.envWithNode(choice, { PATH: "/usr/bin" }).PATH).to.equal(`${provided}${path.delimiter}/usr/bin`);

    const machine = { bin: "/usr/bin/node", version: "v22.12.0" };
    nodeLib.linkNode(root, { ...machine, provided: false, machine }, cache);
    expect(fs.existsSync(nodeLib.nodeLink(root))).to.equal(false);
    expect(nodeLib.providedBinDir(root, cache)).to.equal(null);

    // A node of the user's own in .bin (such as the `node` npm package's) is theirs.
    fs.writeFileSync(nodeLib.nodeLink(root), "#!/bin/sh\n", { mode: 0o755 });
    nodeLib.linkNode(root, choice, cache);
    nodeLib.linkNode(root, { ...machine, provided: false, machine }, cache);
    expect(fs.lstatSync(nodeLib.nodeLink(root)).isSymbolicLink()).to.equal(false);
    expect(nodeLib.providedBinDir(root, cache)).to.equal(null);
  });

  it("runs this suite: the machine's Node.js when supported, else the provided one", () => {
    const machine = nodeLib.machineNode();
    expect(nodeLib.supported(process.version), `tests run on ${process.version}`).to.equal(true);
    if (machine && nodeLib.supported(machine.version)) return;
    expect(process.version).to.equal(`v${nodeLib.NODE_VERSION}`);
    expect(fs.realpathSync(process.execPath)).to.equal(path.join(nodeLib.providedNodeDir(), "bin", "node"));
    expect(nodeLib.providedBinDir(REPO_ROOT)).to.equal(path.join(nodeLib.providedNodeDir(), "bin"));
  });
});
