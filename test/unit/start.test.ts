// start(): a command whose stdout or stdin the caller streams itself. A
// stop by the caller is no failure, a failure of the command's own still is,
// and `done` settles only once the command has ended.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { CommandError, start } from "../../provider/builder/run/exec";
import { memoryLogger } from "../../provider/builder/run/log";

/** Whether some process's command line contains `marker` (zombies aside). */
const stillRunning = (marker: string) => execFileSync("ps", ["-eo", "stat=,args="], { encoding: "utf8" }).split("\n")
  .some((l) => l.includes(marker) && !l.includes("ps -eo") && !l.trim().startsWith("Z"));

const failure = (p: Promise<unknown>) => p.then(() => expect.fail("resolved"), (e: unknown) => e as CommandError);

describe("start()", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vmi-start-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("hands stdout to the caller, who stops the command once it has what it wanted; done resolves after it has ended", async () => {
    const marker = `vmi-start-stop-${process.pid}`;
    const log = memoryLogger();
    const cmd = start("sh", ["-c", "printf 'booting\\nlogin: '; exec sleep 60", marker], { label: "t", log, timeoutMs: 60_000, stdout: "pipe" });
    let seen = "";
    for await (const chunk of cmd.stdout!) {
      seen += String(chunk);
      if (seen.endsWith("login: ")) break;
    }
    cmd.stop();
    const started = Date.now();
    expect(await cmd.done).to.equal("");
    expect(Date.now() - started).to.be.below(10_000);
    expect(stillRunning(marker), "the stopped command is left").to.equal(false);
    expect(log.lines, "a piped stdout is the caller's, not logged").not.to.include("t | booting");
    expect(log.lines.at(-1)).to.match(/^t \| stopped after \d+\.\d s$/);
  });

  it("still fails when the command had failed on its own before the caller stopped it", async () => {
    const marker = `vmi-start-failed-${process.pid}`;
    const cmd = start("sh", ["-c", "echo broken >&2; exit 3", marker], { label: "t", log: memoryLogger(), timeoutMs: 60_000, stdout: "pipe" });
    cmd.stdout!.resume();
    await once(cmd.stdout!, "end");
    while (stillRunning(marker)) await new Promise((r) => setTimeout(r, 20));
    cmd.stop();
    const err = await failure(cmd.done);
    expect(err).to.be.instanceOf(CommandError);
    expect(err.exitCode).to.equal(3);
    expect(err.stopped).to.equal(undefined);
    expect(err.stderrTail).to.deep.equal(["broken"]);
    expect(err.message).to.match(/^"sh -c 'echo broken >&2; exit 3' vmi-start-failed-\d+" returned non-zero exit code 3\n/);
  });

  it("takes stdin from the caller and writes stdout to a file descriptor", async () => {
    const file = path.join(dir, "out");
    const fd = fs.openSync(file, "w");
    try {
      const cmd = start("tr", ["a-z", "A-Z"], { label: "t", log: memoryLogger(), timeoutMs: 60_000, stdin: "pipe", stdout: fd });
      expect(cmd.stdout).to.equal(null);
      await pipeline(async function* () {
        yield Buffer.from("hello ");
        yield Buffer.from("world\n");
      }, cmd.stdin!);
      await cmd.done;
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.readFileSync(file, "utf8")).to.equal("HELLO WORLD\n");
  });

  it("reports a command that exits before reading its stdin through done, with its exit code", async () => {
    const cmd = start("sh", ["-c", "exit 4"], { label: "t", log: memoryLogger(), timeoutMs: 60_000, stdin: "pipe" });
    const big = Buffer.alloc(1 << 20);
    const fed = pipeline(async function* () {
      for (let i = 0; i < 64; i++) yield big;
    }, cmd.stdin!).then(() => undefined, (e: Error) => e);
    const err = await failure(cmd.done);
    expect(err.exitCode).to.equal(4);
    expect((await fed as NodeJS.ErrnoException | undefined)?.code).to.equal("EPIPE");
  });

  it("stops a command at its time limit and says so", async () => {
    const cmd = start("sleep", ["60"], { label: "t", log: memoryLogger(), timeoutMs: 1_000, stdout: "pipe" });
    const err = await failure(cmd.done);
    expect(err.stopped).to.equal("timed out");
    expect(err.message).to.match(/^"sleep 60" timed out after 1 s\n/);
  });

  it("stops a command on abort, and does not start one after it", async () => {
    const abort = new AbortController();
    const cmd = start("sleep", ["60"], { label: "t", log: memoryLogger(), timeoutMs: 60_000, signal: abort.signal, stdout: "pipe" });
    abort.abort();
    expect((await failure(cmd.done)).stopped).to.equal("interrupted");
    const late = (() => {
      try {
        start("sleep", ["60"], { label: "t", log: memoryLogger(), timeoutMs: 60_000, signal: abort.signal });
      } catch (err) {
        return err as CommandError;
      }
    })();
    expect(late?.message).to.equal('"sleep 60" not started: the build was interrupted');
    expect(late?.stopped).to.equal("interrupted");
  });

  it("as root, stops even a process unshare forked that has not yet asked for its --kill-child signal", async function () {
    if (process.getuid?.() !== 0) return this.skip();
    // An unshare that forks the command and never sets its death signal: the
    // moment between unshare's fork and the child's prctl, held open.
    fs.writeFileSync(path.join(dir, "unshare"), '#!/bin/sh\nwhile [ "$1" != -- ]; do shift; done; shift\n"$@" &\nwait\n', { mode: 0o755 });
    const savedPath = process.env.PATH;
    process.env.PATH = `${dir}${path.delimiter}${savedPath ?? ""}`;
    const marker = `vmi-start-fork-${process.pid}`;
    try {
      const cmd = start("sh", ["-c", "while :; do sleep 1; done", marker], { label: "t", log: memoryLogger(), timeoutMs: 60_000 });
      while (!execFileSync("ps", ["-eo", "args="], { encoding: "utf8" }).split("\n").some((l) => l.startsWith("sh -c") && l.includes(marker))) {
        await new Promise((r) => setTimeout(r, 20));
      }
      cmd.stop();
      await cmd.done;
      const until = Date.now() + 5_000;
      while (stillRunning(marker) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(stillRunning(marker), "the forked command outlived unshare").to.equal(false);
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it("removes what `redact` names from the logged lines and the error", async () => {
    const log = memoryLogger();
    const cmd = start("sh", ["-c", "echo token=$SECRET; echo denied for $SECRET >&2; exit 1"], {
      label: "t", log, timeoutMs: 60_000, env: { SECRET: "s3cret" }, redact: (l) => l.split("s3cret").join("[redacted]"),
    });
    const err = await failure(cmd.done);
    expect(log.lines).to.include.members(["t | token=[redacted]", "t | denied for [redacted]"]);
    expect(err.stderrTail).to.deep.equal(["denied for [redacted]"]);
    expect(JSON.stringify(log.lines) + err.message).not.to.include("s3cret");
  });
});
