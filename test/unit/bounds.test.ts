// The bounds of a build, without running one: the defaults the docs' table
// shows are the builder's; a failed run's error names the bound its stderr or
// exit status shows; an error that shows none is passed on as it was.
import { expect } from "chai";
import { BOUND_DEFAULTS, BuildBounds } from "../../provider/builder/sandbox/bounds";
import { CommandError } from "../../provider/builder/run/exec";
import { memoryLogger } from "../../provider/builder/run/log";
import { defaultDoc } from "../../provider/model/settings";

const failed = (exitCode: number, tail: string[], stopped?: "timed out") => new CommandError(`"unshare ..." failed`, exitCode, tail, stopped);
const bounds = () => new BuildBounds("a.img", { buildMemory: "512M", buildTimeout: "90s" }, memoryLogger(), 1 << 30);

describe("the bounds of a build", () => {
  it("has the defaults the docs' table shows", () => {
    for (const [name, value] of Object.entries(BOUND_DEFAULTS)) expect(defaultDoc(name as keyof typeof BOUND_DEFAULTS)).to.equal(`\`${value}\``);
  });

  it("names the bound a failed run reached", async () => {
    const b = bounds();
    const cases: [CommandError, RegExp][] = [
      [failed(153, ["File size limit exceeded"]), /^a file reached the build's file-size bound \(1073741824 bytes, vm-images:buildFileSize\)/],
      [failed(1, ["dd: error writing '/dev/shm/x': No space left on device"]),
        /^the sandbox's \/run or \/dev\/shm is full: each holds 134217728 bytes, a quarter of vm-images:buildMemory \(512M\)/],
      [failed(137, [], "timed out"), /^the build reached its time bound \(90s, vm-images:buildTimeout\)/],
    ];
    for (const [err, want] of cases) {
      const explained = (await b.explain(err)) as Error;
      expect(explained.message).to.match(want).and.to.include(`\n  ${err.message}`);
      expect(explained).to.be.instanceOf(CommandError);
    }
  });

  it("passes on an error that shows no bound, and a full image file system is not one", async () => {
    const err = failed(1, ["dd: error writing '/root/x': No space left on device"]);
    expect(await bounds().explain(err)).to.equal(err);
  });

  it("gives each run what is left of the build's time, and the disk's size as the file-size limit", () => {
    const b = bounds();
    expect(b.remainingMs()).to.be.within(85_000, 90_000);
    expect(b.fileSizeBytes()).to.equal(1 << 30);
    expect(b.fileSizeBytes(2 << 30)).to.equal(2 << 30);
    expect(new BuildBounds("a.img", { buildFileSize: "32M" }, memoryLogger()).fileSizeBytes(2 << 30)).to.equal(32 << 20);
  });
});
