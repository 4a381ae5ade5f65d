// An interrupted command is over when run() returns: every process it
// started has ended and released what it held, here a listening Unix socket
// of a grandchild that ignores SIGTERM.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CommandError, run } from "../../provider/build/exec";
import { heldSocketPaths } from "../../provider/build/guestfstemp";
import { memoryLogger } from "../../provider/build/log";

const LISTEN = "process.on('SIGTERM', () => {}); require('net').createServer().listen(process.argv[1])";

describe("run(): an interrupted command", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vmi-exec-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("has ended with all its descendants, and released their sockets, when run() rejects", async () => {
    for (let i = 0; i < 5; i++) {
      const socket = path.join(dir, `s${i}.sock`);
      const marker = `vmi-exec-test-${process.pid}-${i}`;
      const abort = new AbortController();
      const running = run("sh", ["-c", `"$0" -e "${LISTEN}" "$1" ${marker} & wait`, process.execPath, socket], {
        label: "test", log: memoryLogger(), timeoutMs: 60_000, signal: abort.signal,
      });
      while (!heldSocketPaths().has(socket)) await new Promise((r) => setTimeout(r, 20));
      abort.abort();
      const err = await running.then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(CommandError);
      expect((err as Error).message).to.include("interrupted");
      expect(heldSocketPaths().has(socket), "the socket is released").to.equal(false);
      const left = execFileSync("ps", ["-eo", "stat=,args="], { encoding: "utf8" }).split("\n")
        .filter((l) => l.includes(marker) && !l.trim().startsWith("Z"));
      expect(left, "processes left").to.deep.equal([]);
    }
  });
});
