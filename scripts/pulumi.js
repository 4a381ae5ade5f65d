#!/usr/bin/env node
// `npm run pulumi -- <args>`: the project's Pulumi CLI with offline settings
// (see lib/toolchain.js). Exits with the CLI's own exit code.
//
// `--wait-lock[=SECONDS]` (or VM_IMAGES_WAIT_LOCK=SECONDS): when the stack
// is locked by another update (a CI runner sharing the state), wait for it
// and run then, instead of failing at once; gives up after SECONDS (default
// an hour). A locked stack fails before anything changes, so running the
// command again is safe.
"use strict";

const path = require("node:path");
const { spawn } = require("node:child_process");
const tc = require("./lib/toolchain");
const { endOrphanedPlugins } = require("./lib/orphans");

const LOCKED = /the stack is currently locked by \d+ lock\(s\)/;
const RETRY_MS = Math.max(100, Number(process.env.VM_IMAGES_WAIT_LOCK_INTERVAL_MS) || 5000);

/** The CLI's arguments without ours, and how long to wait for a lock (0: not at all). */
function parseArgs(argv) {
  let waitSeconds = Number(process.env.VM_IMAGES_WAIT_LOCK) || 0;
  const args = [];
  for (const arg of argv) {
    const m = /^--wait-lock(?:=(.*))?$/.exec(arg);
    if (!m) {
      args.push(arg);
      continue;
    }
    waitSeconds = m[1] === undefined ? 3600 : Number(m[1]);
    if (!Number.isFinite(waitSeconds) || waitSeconds <= 0) {
      console.error(`pulumi: --wait-lock=${m[1]}: give a number of seconds`);
      process.exit(2);
    }
  }
  return { args, waitSeconds };
}

const cli = tc.findCli();
if (!cli) {
  console.error(`pulumi: the Pulumi CLI ${tc.PULUMI_VERSION} is not set up yet; run \`npm run setup\` first.`);
  process.exit(1);
}
const { args, waitSeconds } = parseArgs(process.argv.slice(2));
const deadline = Date.now() + waitSeconds * 1000;
let child;

// Ctrl-C reaches the CLI itself, which shares our process group: the first
// one cancels, a second one terminates. Forwarding it too would double it.
process.on("SIGINT", () => {});
// SIGTERM and SIGHUP are usually sent to us alone: pass them on.
for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child?.kill(signal));

function runOnce() {
  // Waiting needs to read what the CLI says; otherwise it keeps our terminal.
  const waiting = waitSeconds > 0;
  child = spawn(path.join(cli, "pulumi"), args, { stdio: waiting ? ["inherit", "pipe", "pipe"] : "inherit", env: tc.offlineEnv(cli) });
  let tail = "";
  if (waiting) {
    for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
      from.on("data", (d) => {
        to.write(d);
        tail = (tail + d.toString("utf8")).slice(-4096);
      });
    }
  }
  child.on("error", (err) => {
    console.error(`pulumi: ${err.message}`);
    process.exit(1);
  });
  child.on("close", (code, signal) => {
    // A CLI killed by a signal leaves its language host running.
    if (signal) for (const pid of endOrphanedPlugins(cli)) console.error(`pulumi: ended process ${pid}, left by the killed CLI`);
    if (code !== 0 && waiting && LOCKED.test(tail) && Date.now() + RETRY_MS < deadline) {
      const left = Math.round((deadline - Date.now()) / 1000);
      console.error(`pulumi: the stack is locked by another update: waiting for it (giving up in ${left} s)`);
      setTimeout(runOnce, RETRY_MS);
      return;
    }
    process.exit(code ?? (signal === "SIGINT" ? 130 : 1));
  });
}

runOnce();
