// The Node.js language host that setup builds (tools/pulumi-cli), through
// the real CLI: programs and the dynamic provider run on the Node.js the
// tests run on (the one setup chose); plugins and policy packs written in
// Node.js run (RunPlugin); `pulumi install` installs a project's packages
// (InstallDependencies); `pulumi about` names the node and the packages.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO, runCommand, TestProject } from "./harness";

const NODE_VERSIONS_PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const provider = {
  async create() {
    return { id: "node", outs: { node: process.version } };
  },
};
class NodeVersion extends pulumi.dynamic.Resource {
  constructor(name) {
    super(provider, name, { node: undefined }, {});
  }
}
exports.programNode = process.version;
exports.providerNode = new NodeVersion("provider").node;
`;

const GREETING_PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const config = new pulumi.Config();
const g = new pulumi.CustomResource("greeter:index:Greeting", "g", { name: config.require("name"), greeting: undefined, node: undefined });
exports.greeting = g.greeting;
exports.node = g.node;
`;

/** A resource provider written in Node.js, run from its directory by the language host. */
const GREETER_PLUGIN = `
const provider = require("@pulumi/pulumi/provider");
provider.main({
  version: "0.0.1",
  async create(urn, inputs) {
    return { id: "greeting", outs: { name: inputs.name, greeting: "hello " + inputs.name, node: process.version } };
  },
}, process.argv.slice(2));
`;

const POLICY_PACK = `
const { PolicyPack } = require("@pulumi/policy");
new PolicyPack("greetings", {
  policies: [{
    name: "no-world",
    description: "A greeting names someone",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
      if (args.type === "greeter:index:Greeting" && args.props.name === "world") reportViolation("greet someone, not the world");
    },
  }],
});
`;

describe("e2e: the Node.js language host", function () {
  this.timeout(10 * 60 * 1000);
  const projects: TestProject[] = [];
  const track = (p: TestProject) => (projects.push(p), p);
  after(async () => {
    for (const p of projects) await p.dispose();
  });

  it("runs the program and the dynamic provider on the Node.js the tests run on", async () => {
    const project = track(await TestProject.create({ program: NODE_VERSIONS_PROGRAM }));
    await project.up();
    expect(await project.outputs()).to.deep.equal({ programNode: process.version, providerNode: process.version });
  });

  describe("with a provider plugin written in Node.js", () => {
    let project: TestProject;
    before(async () => {
      project = track(await TestProject.create({
        program: GREETING_PROGRAM,
        pulumiYaml: "plugins:\n  providers:\n    - name: greeter\n      path: ./greeter\n",
        files: {
          "greeter/PulumiPlugin.yaml": "runtime: nodejs\n",
          "greeter/package.json": JSON.stringify({ name: "greeter", version: "0.0.1", private: true, main: "index.js" }),
          "greeter/index.js": GREETER_PLUGIN,
        },
      }));
      fs.symlinkSync(path.join(REPO, "node_modules"), path.join(project.dir, "greeter", "node_modules"));
    });

    it("runs the plugin (RunPlugin) on the same Node.js", async () => {
      await project.setConfig("vm-images-e2e:name", "tests");
      await project.up();
      expect(await project.outputs()).to.deep.equal({ greeting: "hello tests", node: process.version });
    });

    it("runs a policy pack written in Node.js (RunPlugin), which holds the preview to its policy", async () => {
      const pack = path.join(project.dir, "policy");
      fs.mkdirSync(pack);
      fs.writeFileSync(path.join(pack, "PulumiPolicy.yaml"), "runtime: nodejs\n");
      const devVersion = (JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { devDependencies: Record<string, string> })
        .devDependencies["@pulumi/pulumi"];
      fs.writeFileSync(path.join(pack, "package.json"), JSON.stringify({
        name: "greetings", version: "0.0.1", private: true, main: "index.js",
        dependencies: { "@pulumi/policy": "1.21.0", "@pulumi/pulumi": devVersion },
      }));
      fs.writeFileSync(path.join(pack, "index.js"), POLICY_PACK);
      const npm = await runCommand("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: pack, env: process.env });
      expect(npm.code, npm.stderr).to.equal(0);

      const allowed = await project.run("preview", "--stack", project.stack, "--policy-pack", pack);
      expect(allowed.code, allowed.stdout + allowed.stderr).to.equal(0);
      expect(allowed.stdout).to.match(/greetings@v0\.0\.1/);

      await project.setConfig("vm-images-e2e:name", "world");
      const denied = await project.run("preview", "--stack", project.stack, "--policy-pack", pack);
      expect(denied.code).to.not.equal(0);
      expect(denied.stdout).to.match(/\[mandatory\]\s+no-world\s+\(greeter:index:Greeting: g\)/);
      expect(denied.stdout).to.include("greet someone, not the world");
    });
  });

  it("installs a project's npm packages (pulumi install, InstallDependencies), which `pulumi about` then lists with the node", async () => {
    const project = track(await TestProject.create({
      program: "exports.answer = require(\"answer\");\n",
      noNodeModules: true,
      files: {
        "answer/package.json": JSON.stringify({ name: "answer", version: "1.0.0", main: "index.js" }),
        "answer/index.js": "module.exports = 42;\n",
      },
    }));
    const pkg = path.join(project.dir, "package.json");
    fs.writeFileSync(pkg, JSON.stringify({ ...JSON.parse(fs.readFileSync(pkg, "utf8")), dependencies: { answer: "file:./answer" } }));
    expect(fs.existsSync(path.join(project.dir, "node_modules"))).to.equal(false);

    const r = await project.must("install");
    expect(r.stdout).to.include("Finished installing dependencies");
    expect(fs.realpathSync(path.join(project.dir, "node_modules", "answer"))).to.equal(path.join(project.dir, "answer"));
    expect(fs.existsSync(path.join(project.dir, "package-lock.json"))).to.equal(true);

    const about = JSON.parse((await project.must("about", "--json")).stdout) as {
      runtime: { language: string; version: string; executable: string };
      dependencies: { name: string; version: string }[];
    };
    expect(about.runtime.language).to.equal("nodejs");
    expect(about.runtime.version).to.equal(process.version);
    expect(fs.realpathSync(about.runtime.executable)).to.equal(fs.realpathSync(process.execPath));
    expect(about.dependencies).to.deep.equal([{ name: "answer", version: "1.0.0" }]);
  });
});
