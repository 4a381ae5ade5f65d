import { expect } from "chai";
import { Forest as ImageForest } from "../../provider/model/forest";
import { imageFormat } from "../../provider/model/image";
import { ConfigError, type ImageConfig, parseImageConfig } from "../../provider/model/config";

const img = (name: string, parent?: string): ImageConfig => parseImageConfig({ name, parent });

describe("forest", () => {
  // base.img -> k8s.qcow2 -> kind.qcow2 ; base.img -> bpf.img ; ext.img (parent outside the forest)
  const forest = ImageForest.of([
    img("kind.qcow2", "k8s.qcow2"),
    img("base.img"),
    img("k8s.qcow2", "base.img"),
    img("bpf.img", "base.img"),
    img("ext.img", "prebuilt.img"),
  ]);

  it("finds root and leaf images", () => {
    expect(forest.rootImages()).to.deep.equal(["base.img", "ext.img"]);
    expect(forest.leafImages()).to.deep.equal(["kind.qcow2", "bpf.img", "ext.img"]);
    expect(forest.isRootImage("base.img")).to.equal(true);
    expect(forest.isRootImage("k8s.qcow2")).to.equal(false);
    expect(forest.isLeafImage("base.img")).to.equal(false);
    expect(forest.isLeafImage("bpf.img")).to.equal(true);
  });

  it("treats a parent outside the forest as an existing image file (lvh)", () => {
    expect(forest.isRootImage("ext.img")).to.equal(true);
    expect(forest.externalParent("ext.img")).to.equal("prebuilt.img");
    expect(forest.externalParent("k8s.qcow2")).to.equal(undefined);
  });

  it("lists dependencies root first, and descendants parents first", () => {
    expect(forest.dependencies("kind.qcow2")).to.deep.equal(["base.img", "k8s.qcow2"]);
    expect(forest.dependencies("base.img")).to.deep.equal([]);
    expect(forest.descendants("base.img")).to.deep.equal(["k8s.qcow2", "bpf.img", "kind.qcow2"]);
  });

  it("orders builds parents before children", () => {
    const order = forest.buildOrder();
    expect(order).to.have.members(forest.names());
    for (const n of order) for (const d of forest.dependencies(n)) expect(order.indexOf(d)).to.be.lessThan(order.indexOf(n));
  });

  it("names image files and formats as lvh does", () => {
    expect(forest.imageFilename("/data/images", "k8s.qcow2")).to.equal("/data/images/k8s.qcow2");
    expect(imageFormat("k8s.qcow2")).to.equal("qcow2");
    expect(imageFormat("base.img")).to.equal("raw");
    expect(imageFormat("base.raw")).to.equal("raw");
    expect(() => forest.imageFilename("/d", "nope.img")).to.throw(/no configuration for image "nope\.img"/);
  });

  it("refuses duplicate names", () => {
    expect(() => ImageForest.of([img("a.img"), img("a.img")])).to.throw(ConfigError, /image "a\.img": name: duplicate image name/);
  });

  it("refuses parent cycles, naming the cycle", () => {
    expect(() => ImageForest.of([img("a.img", "b.img"), img("b.img", "a.img")]))
      .to.throw(ConfigError, /image "a\.img": parent: parent cycle: a\.img -> b\.img -> a\.img/);
    expect(() => ImageForest.of([img("a.img", "a.img")])).to.throw(/parent cycle: a\.img -> a\.img/);
  });
});
