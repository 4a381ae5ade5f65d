import { expect } from "chai";
import { buildKey } from "../../provider/model/buildkey";
import { parseImageConfig } from "../../provider/model/config";
import { isLayerReference, layeredAsOverlay, layerName, parseLayerName, parseQcow2Header, unusedLayers } from "../../provider/model/layers";

const D1 = `sha256:${"a".repeat(64)}`;
const D2 = `sha256:${"b".repeat(64)}`;

/** A qcow2 header (version 3) with a virtual size and, optionally, a backing file name after it. */
function header(virtualBytes: number, backing?: string): Buffer {
  const head = Buffer.alloc(4096);
  head.writeUInt32BE(0x514649fb, 0);
  head.writeUInt32BE(3, 4);
  if (backing) {
    head.writeBigUInt64BE(512n, 8);
    head.writeUInt32BE(Buffer.byteLength(backing), 16);
    head.write(backing, 512);
  }
  head.writeBigUInt64BE(BigInt(virtualBytes), 24);
  return head;
}

describe("copy-on-write children: layers", () => {
  it("names a layer by its parent and content digest, and reads the name back", () => {
    expect(layerName("base.img", D1)).to.equal(`.base.img@sha256-${"a".repeat(64)}`);
    expect(parseLayerName(layerName("k8s.qcow2", D2))).to.deep.equal({ name: "k8s.qcow2", digest: D2 });
    expect(() => layerName("base.img", "sha256:abc")).to.throw(/not a content digest/);
    for (const other of ["base.img", `.base.img@sha256-${"a".repeat(63)}`, `../.base.img@sha256-${"a".repeat(64)}`, `/x/.b@sha256-${"a".repeat(64)}`]) {
      expect(parseLayerName(other), other).to.equal(undefined);
      expect(isLayerReference(other), other).to.equal(false);
    }
  });

  it("overlays only derived qcow2 images, and only when asked", () => {
    expect(layeredAsOverlay({ name: "c.qcow2", parent: "b.img" }, "overlay")).to.equal(true);
    expect(layeredAsOverlay({ name: "c.qcow2", parent: "b.img" }, "flat")).to.equal(false);
    expect(layeredAsOverlay({ name: "c.qcow2", parent: "b.img" }, undefined)).to.equal(false);
    expect(layeredAsOverlay({ name: "c.img", parent: "b.img" }, "overlay")).to.equal(false);
    expect(layeredAsOverlay({ name: "root.qcow2" }, "overlay")).to.equal(false);
  });

  it("keys an overlay apart from its flat file, and leaves every other key as it was", () => {
    const key = (name: string, parent: string | undefined, layering?: "flat" | "overlay") => buildKey({
      image: parseImageConfig({ name, parent }), backend: "direct", suite: "bookworm", parentDigest: parent ? D1 : undefined, fileHashes: {}, layering,
    });
    expect(key("c.qcow2", "b.img", "overlay")).to.not.equal(key("c.qcow2", "b.img", "flat"));
    expect(key("c.qcow2", "b.img", "flat")).to.equal(key("c.qcow2", "b.img"));
    expect(key("c.img", "b.img", "overlay")).to.equal(key("c.img", "b.img"));
    expect(key("r.qcow2", undefined, "overlay")).to.equal(key("r.qcow2", undefined));
  });

  it("reads a qcow2 header's virtual size and backing file name, and nothing from other files", () => {
    expect(parseQcow2Header(header(2 ** 33))).to.deep.equal({ virtualBytes: 2 ** 33 });
    expect(parseQcow2Header(header(2 ** 30, layerName("b.img", D1)))).to.deep.equal({ virtualBytes: 2 ** 30, backingFile: layerName("b.img", D1) });
    expect(parseQcow2Header(Buffer.alloc(4096))).to.equal(undefined);
    expect(parseQcow2Header(Buffer.from("QFI"))).to.equal(undefined);
    expect(() => parseQcow2Header(header(2 ** 30, "x").subarray(0, 400))).to.throw(/past the header/);
  });

  it("finds the layers nothing reads: not an image's, a used layer's, or a pinned one's", () => {
    const base1 = layerName("base.img", D1);
    const base2 = layerName("base.img", D2);
    const kind1 = layerName("kind.qcow2", D1);
    const kind2 = layerName("kind.qcow2", D2);
    const files = new Map<string, string | undefined>([
      ["base.img", undefined], ["kind.qcow2", base2], ["kind_0.qcow2", kind1],
      [base1, undefined], [base2, undefined], [kind1, base1], [kind2, base2],
    ]);
    // kind_0 reads kind1, which reads base1; kind.qcow2 reads base2; kind2 is read by nothing.
    expect(unusedLayers(files)).to.deep.equal([kind2]);
    expect(unusedLayers(files, [kind2])).to.deep.equal([]);
    files.delete("kind_0.qcow2");
    expect(unusedLayers(files)).to.deep.equal([base1, kind1, kind2].sort());
  });
});
