// The pulumi command lvh's build flags become, on a forest of one root with
// a child (which has a child of its own) and a sibling: --image targets the
// image, its ancestors and its descendants (never its siblings) and the
// forest; --force-rebuild replaces only the images asked for.
import { expect } from "chai";
import { Forest } from "../../provider/model/forest";
import { parseImageConfig } from "../../provider/model/config";
import { type BuildOptions, UsageError } from "../../cli/lvhargs";
import { lvhPulumiCommand, shellWords } from "../../cli/lvhcommand";

const forest = Forest.of([
  { name: "base.img", packages: [] },
  { name: "a.qcow2", parent: "base.img" },
  { name: "a2.qcow2", parent: "a.qcow2" },
  { name: "b.qcow2", parent: "base.img" },
].map((i) => parseImageConfig(i)));
const urn = (name: string) => `urn:pulumi:lvh::vm-images::vm-images:index:ImageForest$pulumi-nodejs:dynamic/vm-images:Image::${name}`;
const FOREST_URN = "urn:pulumi:lvh::vm-images::vm-images:index:ImageForest::images";
const ctx = { project: "vm-images", imagesFile: "/p/images.json", configFile: [] };
const opts = (extra: Partial<BuildOptions> = {}): BuildOptions => ({ command: "build", stack: "lvh", forceRebuild: false, dryRun: false, ...extra });

describe("the pulumi command of lvh's build flags", () => {
  const table: [string, Partial<BuildOptions>, string[], string[]?][] = [
    ["no flag: up on the stack", {}, ["up", "--yes", "--stack", "lvh"]],
    ["--image a.qcow2: it, its parent, its child and the forest", { image: "a.qcow2" },
      ["up", "--yes", "--stack", "lvh", "--target", urn("a.qcow2"), "--target", urn("base.img"), "--target", urn("a2.qcow2"), "--target", FOREST_URN]],
    ["--image base.img: every image derives from it", { image: "base.img" },
      ["up", "--yes", "--stack", "lvh", "--target", urn("base.img"), "--target", urn("a.qcow2"), "--target", urn("b.qcow2"), "--target", urn("a2.qcow2"), "--target", FOREST_URN]],
    ["--force-rebuild: every image replaced", { forceRebuild: true },
      ["up", "--yes", "--stack", "lvh", ...["base.img", "a.qcow2", "a2.qcow2", "b.qcow2"].flatMap((n) => ["--replace", urn(n)])]],
    ["--force-rebuild --image b.qcow2: only it replaced", { forceRebuild: true, image: "b.qcow2" },
      ["up", "--yes", "--stack", "lvh", "--target", urn("b.qcow2"), "--target", urn("base.img"), "--target", FOREST_URN, "--replace", urn("b.qcow2")]],
    ["--dry-run: preview --diff with the config copy", { dryRun: true },
      ["preview", "--diff", "--stack", "lvh", "--config-file", "/tmp/x/Pulumi.lvh.yaml"], ["--config-file", "/tmp/x/Pulumi.lvh.yaml"]],
  ];
  for (const [what, extra, expected, configFile] of table) {
    it(what, () => expect(lvhPulumiCommand(opts(extra), forest, { ...ctx, configFile: configFile ?? [] })).to.deep.equal(expected));
  }

  it("refuses an --image the forest lacks, naming the file and its images", () => {
    expect(() => lvhPulumiCommand(opts({ image: "c.qcow2" }), forest, ctx)).to.throw(UsageError)
      .with.property("message", "--image c.qcow2: no such image in /p/images.json; the images are base.img, a.qcow2, a2.qcow2, b.qcow2");
  });

  it("prints the command as a shell takes it back", () => {
    expect(shellWords(["up", "--target", urn("a.qcow2"), "--config-file", "/tmp/it's here"]))
      .to.equal(`up --target '${urn("a.qcow2")}' --config-file '/tmp/it'\\''s here'`);
  });
});
