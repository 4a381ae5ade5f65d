#!/usr/bin/env node
// `npm run pulumi -- <args>`: the project's Pulumi CLI with offline settings
// (see lib/toolchain.js). Exits with the CLI's own exit code.
"use strict";

const path = require("node:path");
const { spawn } = require("node:child_process");
const tc = require("./lib/toolchain");

const cli = tc.findCli();
if (!cli) {
  console.error(`pulumi: the Pulumi CLI ${tc.PULUMI_VERSION} is not set up yet; run \`npm run setup\` first.`);
  process.exit(1);
}
const child = spawn(path.join(cli, "pulumi"), process.argv.slice(2), { stdio: "inherit", env: tc.offlineEnv(cli) });

// Ctrl-C reaches the CLI itself, which shares our process group: the first
// one cancels, a second one terminates. Forwarding it too would double it.
process.on("SIGINT", () => {});
// SIGTERM and SIGHUP are usually sent to us alone: pass them on.
for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));

child.on("error", (err) => {
  console.error(`pulumi: ${err.message}`);
  process.exit(1);
});
child.on("exit", (code, signal) => process.exit(code ?? (signal === "SIGINT" ? 130 : 1)));
