import { expect } from "chai";
import { partitionOffset } from "../../provider/builder/boot/layout";

describe("MBR layout", () => {
  const sector = (type: number, startLba: number, signature = true) => {
    const b = Buffer.alloc(512);
    b[446 + 4] = type;
    b.writeUInt32LE(startLba, 446 + 8);
    if (signature) b.writeUInt16BE(0x55aa, 510);
    return b;
  };
  it("finds the first partition of a bootable image", () => expect(partitionOffset(sector(0x83, 2048))).to.equal(1048576));
  it("reads a bare file system as offset 0", () => expect(partitionOffset(Buffer.alloc(512))).to.equal(0));
  it("needs the boot signature", () => expect(partitionOffset(sector(0x83, 2048, false))).to.equal(0));
  it("needs a non-empty first entry", () => expect(partitionOffset(sector(0, 2048))).to.equal(0));
});
