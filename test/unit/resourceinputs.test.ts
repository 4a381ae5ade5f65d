// What an ImageForest registers, with Pulumi's mocks instead of an engine:
// the inputs of every Image and PulledImage it makes from the stack's
// settings. They are what the state holds, so an unchanged stack must
// register exactly these (or its next preview would not say "no changes").
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ImageForest } from "../../provider/pulumi/forest";
import { parseStackConfig } from "../../provider/model/stackconfig";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/** Register a forest with mocks; the resources it registered, without the serialized provider. */
async function register(make: () => ImageForest): Promise<Registered[]> {
  const registered: Registered[] = [];
  await pulumi.runtime.setMocks({
    newResource: (args) => {
      const { __provider: _provider, ...inputs } = args.inputs as Record<string, unknown>;
      registered.push({ type: args.type, name: args.name, inputs });
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call: (args) => args.inputs,
  }, "project", "stack", false);
  const forest = make();
  // Each resource's URN is known once the (mock) engine has registered it.
  const resources = [forest, ...Object.values(forest.images), ...Object.values(forest.pulled)];
  await new Promise((resolve) => pulumi.all(resources.map((r) => r.urn)).apply(resolve));
  return registered.sort((a, b) => a.name.localeCompare(b.name));
}

/** An images file in lvh's spelling, as the root program reads it. */
const IMAGES = [
  { name: "base.img", packages: ["curl"], actions: [{ comment: "", type: "run-command", op: { Cmd: "passwd -d root" } }] },
  { name: "k8s.qcow2", parent: "base.img", image_size: "+2G" },
];

describe("resources an ImageForest registers", () => {
  let root: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-inputs-"));
    fs.writeFileSync(path.join(root, "images.json"), JSON.stringify(IMAGES));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  const settingsOf = (config: Record<string, string>) => parseStackConfig({ "vm-images:imagesFile": "images.json", ...config }, root);

  it("with the stack's defaults: the Image inputs the state of an existing stack holds", async () => {
    const settings = settingsOf({});
    const resources = await register(() => new ImageForest("images", settings));
    const urn = (name: string) => `urn:pulumi:stack::project::vm-images:index:ImageForest$pulumi-nodejs:dynamic/vm-images:Image::${name}`;
    const image = (name: string, own: Record<string, unknown>) => ({
      type: "pulumi-nodejs:dynamic/vm-images:Image",
      name,
      inputs: {
        dir: path.join(root, "images"), name, packages: [], actions: [], baseDir: root, suite: "bookworm", backend: "auto",
        mergeSteps: true, insecureRegistry: false, verbose: false, localCopies: true, __urn: urn(name), ...own,
      },
    });
    // The parent's build key depends on the backend `auto` picks on this host: only its form is pinned.
    const derived = resources.find((r) => r.name === "k8s.qcow2")!;
    const { parentBuildKey, ...derivedInputs } = derived.inputs;
    expect(parentBuildKey).to.match(/^[0-9a-f]{64}$/);
    derived.inputs = derivedInputs;
    expect(resources).to.deep.equal([
      image("base.img", { packages: ["curl"], actions: [{ type: "run-command", cmd: "passwd -d root" }] }),
      { type: "vm-images:index:ImageForest", name: "images", inputs: {} },
      image("k8s.qcow2", { parent: "base.img", parentPath: path.join(root, "images", "base.img"), size: "+2G" }),
    ]);
  });

  it("with every setting given: Images and PulledImages take each of them", async () => {
    const settings = settingsOf({
      "vm-images:dir": "out", "vm-images:suite": "trixie", "vm-images:mirror": "https://mirror.example/debian",
      "vm-images:backend": "direct", "vm-images:mergeSteps": "false", "vm-images:rebuild": "2",
      "vm-images:pull": "127.0.0.1:5000/lvh/kind:1", "vm-images:registry": "127.0.0.1:5000/team/images", "vm-images:tag": "main",
      "vm-images:insecureRegistry": "true", "vm-images:verifyBoot": "false", "vm-images:verbose": "true", "vm-images:localCopies": "false", "vm-images:layering": "overlay",
      "vm-images:network": "mirror", "vm-images:allowHosts": "proxy.example,10.1.0.0/16",
      "vm-images:hostPaths": "/srv/kernels", "vm-images:arch": "arm64",
    });
    const resources = await register(() => new ImageForest("images", settings));
    expect(resources.map((r) => r.name)).to.deep.equal(["127.0.0.1:5000/lvh/kind:1", "base.img", "images", "k8s.qcow2"]);
    expect(resources[0].inputs).to.deep.equal({
      ref: "127.0.0.1:5000/lvh/kind:1", dir: path.join(root, "out"), insecureRegistry: true, builds: ["base.img", "k8s.qcow2"],
      // The stack's architecture: an index's entry for it, or a plain manifest of it.
      platform: "linux/arm64/v8",
    });
    const { __urn: _urn, ...inputs } = resources[1].inputs;
    expect(inputs).to.deep.equal({
      dir: path.join(root, "out"), name: "base.img", packages: ["curl"], actions: [{ type: "run-command", cmd: "passwd -d root" }],
      baseDir: root, suite: "trixie", mirror: "https://mirror.example/debian", backend: "direct", mergeSteps: false,
      rebuild: "2", registry: "127.0.0.1:5000/team/images", tag: "main", insecureRegistry: true, verifyBoot: false, verbose: true,
      localCopies: false, layering: "overlay", network: "mirror", allowHosts: ["proxy.example", "10.1.0.0/16"],
      hostPaths: ["/srv/kernels"], arch: "arm64",
    });
  });
});
