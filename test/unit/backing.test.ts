import { expect } from "chai";
import { externalFileRefusal, externalFiles, parentOpenName } from "../../provider/model/backing";

// What qemu-img info --output=json prints (7.2), trimmed to what matters.
const plain = { format: "qcow2", "format-specific": { type: "qcow2", data: { compat: "1.1", "refcount-bits": 16, corrupt: false } } };
const backed = { ...plain, "backing-filename": "/etc/hostname", "full-backing-filename": "/etc/hostname", "backing-filename-format": "raw" };
const dataFile = { format: "qcow2", "format-specific": { type: "qcow2", data: { compat: "1.1", "data-file": "/dev/sda", "data-file-raw": true } } };

describe("parent images naming host files (backing and data files)", () => {
  it("finds nothing in a standalone qcow2 or a raw image", () => {
    expect(externalFiles(plain)).to.deep.equal([]);
    expect(externalFiles({ format: "raw" })).to.deep.equal([]);
    expect(externalFileRefusal("k8s.qcow2", "base.qcow2", plain)).to.equal(undefined);
  });
  it("finds a backing file, full or as written", () => {
    expect(externalFiles(backed)).to.deep.equal([{ kind: "backing file", file: "/etc/hostname" }]);
    expect(externalFiles({ ...plain, "backing-filename": "rel.img" })).to.deep.equal([{ kind: "backing file", file: "rel.img" }]);
  });
  it("finds a data file in the format-specific data", () => {
    expect(externalFiles(dataFile)).to.deep.equal([{ kind: "data file", file: "/dev/sda" }]);
  });
  it("refuses naming the image, the parent and the file", () => {
    expect(externalFileRefusal("k8s.qcow2", "/images/base.qcow2", backed)).to.match(
      /^image "k8s\.qcow2": parent \/images\/base\.qcow2 names a backing file \(\/etc\/hostname\): refused, .*without its backing chain/);
    expect(externalFileRefusal("k8s.qcow2", "/images/base.qcow2", dataFile)).to.match(/names a data file \(\/dev\/sda\): refused/);
  });
  it("opens a qcow2 parent with its backing file switched off, a raw one as raw bytes", () => {
    expect(parentOpenName("/images/base.img", "raw")).to.equal("/images/base.img");
    const name = parentOpenName("/images/a \"b\".qcow2", "qcow2");
    expect(name.startsWith("json:")).to.equal(true);
    expect(JSON.parse(name.slice(5))).to.deep.equal({ driver: "qcow2", file: { driver: "file", filename: "/images/a \"b\".qcow2" }, backing: null });
  });
});
