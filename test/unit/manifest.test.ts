// ImagesManifest writes exactly the file `lvh images build --dir DIR` reads.
import { expect } from "chai";
import { renderManifest } from "../../provider/builder/image/manifest";
import { ConfigError } from "../../provider/model/config";
import { readLvhImages } from "../../provider/model/lvh";

describe("images manifest", () => {
  const images = [
    { name: "base.img", packages: ["curl"], actions: [{ type: "run-command", cmd: "passwd -d root", comment: "no password" }] },
    { name: "k8s.qcow2", parent: "base.img", size: "+2G", packages: ["docker.io"], actions: [{ type: "upload", file: "a", dest: "/a" }] },
  ];

  it("is a bare list in lvh's spelling that lvh's decoder reads back to the same images", () => {
    const text = renderManifest(images);
    const raw = JSON.parse(text) as Record<string, unknown>[];
    expect(raw).to.be.an("array");
    expect(raw[0]).to.deep.equal({
      name: "base.img", packages: ["curl"], actions: [{ comment: "no password", type: "run-command", op: { Cmd: "passwd -d root" } }],
    });
    expect(raw[1]).to.deep.include({ parent: "base.img", image_size: "+2G" });
    const back = readLvhImages(text);
    expect(back.warnings).to.deep.equal([]);
    expect(back.images.map((i) => i.name)).to.deep.equal(["base.img", "k8s.qcow2"]);
    expect(back.images[1].actions).to.deep.equal([{ type: "upload", file: "a", dest: "/a" }]);
  });

  it("refuses images lvh could not build, naming image and field", () => {
    expect(() => renderManifest([{ name: "a.img", packages: ["no such"] }])).to.throw(ConfigError, /image "a\.img": packages\[0\]/);
    expect(() => renderManifest([{ name: "a.img" }, { name: "a.img" }])).to.throw(ConfigError, /duplicate image name/);
    expect(() => renderManifest([{ name: "a.img", actions: [{ type: "mkdir", op: { Dir: "/x" } }] }])).to.throw(ConfigError, /actions\[0\]/);
  });
});
