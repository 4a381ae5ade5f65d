// An interrupted command is over when run() returns: every process it
// started has ended and released what it held, here a listening Unix socket
// of a grandchild that ignores SIGTERM. A command is stopped by its caller
// alone: a Ctrl-C to the caller's process group does not reach it. With
// cleanEnv, a command gets PATH and what it is given, nothing of ours.
import { expect } from "chai";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CommandError, run } from "../../provider/builder/run/exec";
import { heldSocketPaths } from "../../provider/builder/backends/guestfstemp";
import { memoryLogger } from "../../provider/builder/run/log";

const LISTEN = "process.on('SIGTERM', () => {}); require('net').createServer().listen(process.argv[1])";

/** Whether some process's command line contains `marker` (zombies aside). */
const stillRunning = (marker: string) => execFileSync("ps", ["-eo", "stat=,args="], { encoding: "utf8" }).split("\n")
  .some((l) => l.includes(marker) && !l.includes("ps -eo") && !l.trim().startsWith("Z"));

describe("run()", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vmi-exec-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("keeps at most captureLimit bytes of stdout: a command that prints more, even without end, is stopped and fails", async () => {
    const quiet = { label: "test", log: memoryLogger(), timeoutMs: 60_000, capture: "quiet" as const };
    expect(await run("sh", ["-c", "printf 'a\\nb\\n'"], { ...quiet, captureLimit: 4 })).to.equal("a\nb");
    for (const script of ["printf 'a\\nb\\nc\\n'", "yes", "tr '\\0' x < /dev/zero"]) {
      const err = await run("sh", ["-c", script], { ...quiet, captureLimit: 4 }).then(() => undefined, (e: unknown) => e);
      expect(err, script).to.be.instanceOf(CommandError);
      expect((err as Error).message, script).to.include("printed more than 4 bytes");
      expect((err as CommandError).stopped, script).to.equal(undefined);
    }
  });

  it("interrupted, has ended with all its descendants, and released their sockets, when it rejects", async () => {
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
      expect(stillRunning(marker), "a process of the command is left").to.equal(false);
    }
  });

  it("leaves a Ctrl-C to the caller's process group to the caller; the command still ends when the caller is killed", async () => {
    const marker = `vmi-exec-sigint-${process.pid}`;
    const trapped = path.join(dir, "trapped");
    const ready = path.join(dir, "ready");
    // A caller handling SIGINT as the provider does (it stops its commands
    // itself), running a command that would note a SIGINT of its own.
    const caller = `
      process.on("SIGINT", () => {});
      const { run } = require(${JSON.stringify(path.join(__dirname, "..", "..", "provider", "builder", "run", "exec.js"))});
      const { memoryLogger } = require(${JSON.stringify(path.join(__dirname, "..", "..", "provider", "builder", "run", "log.js"))});
      run("sh", ["-c", 'trap "echo INT > $1; exit 1" INT; echo > $2; while :; do sleep 0.1; done', ${JSON.stringify(marker)}, ${JSON.stringify(trapped)}, ${JSON.stringify(ready)}],
        { label: "test", log: memoryLogger(), timeoutMs: 60_000 }).catch(() => {});`;
    // Its own process group, as a shell gives a foreground job.
    const child = spawn(process.execPath, ["-e", caller], { stdio: "ignore", detached: true });
    const gone = new Promise((r) => child.once("exit", r));
    try {
      while (!fs.existsSync(ready) && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
      expect(fs.existsSync(ready), "the command started").to.equal(true);
      process.kill(-child.pid!, "SIGINT");
      await new Promise((r) => setTimeout(r, 500));
      expect(fs.existsSync(trapped), "the command got the SIGINT").to.equal(false);
      expect(stillRunning(marker), "the command still runs").to.equal(true);
    } finally {
      child.kill("SIGKILL");
      await gone;
    }
    const until = Date.now() + 10_000;
    while (stillRunning(marker) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(stillRunning(marker), "the command outlived its killed caller").to.equal(false);
  });

  it("with cleanEnv, gives the command PATH and its own variables, and nothing of the caller's environment", async () => {
    process.env.VMI_EXEC_TEST_SECRET = "secret";
    try {
      const env = (cleanEnv: boolean) => run("sh", ["-c", "env"], { label: "test", log: memoryLogger(), timeoutMs: 60_000, capture: true, cleanEnv, env: { GIVEN: "1" } })
        .then((out) => out.split("\n").map((l) => l.split("=")[0]).filter((name) => name !== "PWD" && name !== "SHLVL" && name !== "_").sort());
      expect(await env(true)).to.deep.equal(["GIVEN", "PATH"]);
      expect(await env(false)).to.include.members(["GIVEN", "PATH", "VMI_EXEC_TEST_SECRET"]);
    } finally {
      delete process.env.VMI_EXEC_TEST_SECRET;
    }
  });
});
