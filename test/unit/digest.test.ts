// The content digest reads a sparse file's data only, where qemu-img map
// says it is, and hashes its holes as zeros: the same sha256 as every byte
// read, with holes at the start, between data and at the end.
import { expect } from "chai";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { contentDigest, coversFile } from "../../provider/builder/image/digest";
import { whichTool } from "../../provider/builder/run/host";

describe("content digest", () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-digest-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const everyByte = (file: string) => `sha256:${createHash("sha256").update(fs.readFileSync(file)).digest("hex")}`;

  it("is the sha256 of every byte of a sparse file: holes first, between and last", async function () {
    if (!whichTool("qemu-img")) this.skip();
    const file = path.join(dir, "sparse.raw");
    const fd = fs.openSync(file, "w");
    fs.writeSync(fd, Buffer.from("data after a hole"), 0, 17, 3 * 2 ** 20 + 5);
    fs.writeSync(fd, Buffer.alloc(70_000, 0xab), 0, 70_000, 20 * 2 ** 20 + 1);
    fs.ftruncateSync(fd, 41 * 2 ** 20 + 3);
    fs.closeSync(fd);
    expect(fs.statSync(file).blocks * 512, "the file is sparse here").to.be.below(2 ** 20);
    expect(await contentDigest(file)).to.equal(everyByte(file));
  });

  it("is the sha256 of a file without holes, and of an empty one", async () => {
    const full = path.join(dir, "full");
    fs.writeFileSync(full, Buffer.alloc(9 * 2 ** 20 + 1, 7));
    expect(await contentDigest(full)).to.equal(everyByte(full));
    const empty = path.join(dir, "empty");
    fs.writeFileSync(empty, "");
    expect(await contentDigest(empty)).to.equal(`sha256:${createHash("sha256").digest("hex")}`);
  });

  it("reads every byte when the extents it is given do not cover the file exactly", () => {
    expect(coversFile([{ start: 0, length: 10, data: true }, { start: 10, length: 5, data: false }], 15)).to.equal(true);
    expect(coversFile([{ start: 0, length: 10, data: true }, { start: 11, length: 4, data: false }], 15)).to.equal(false);
    expect(coversFile([{ start: 0, length: 10, data: true }], 15)).to.equal(false);
    expect(coversFile([], 0)).to.equal(true);
  });
});
