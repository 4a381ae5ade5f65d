#!/usr/bin/env node
// `npm run pulumi -- <args>`: the project's Pulumi CLI with offline settings
// (see lib/toolchain.js). Exits with the CLI's own exit code.
"use strict";

const path = require("node:path");
const { spawnSync } = require("node:child_process");
const tc = require("./lib/toolchain");

const cli = tc.findCli();
if (!cli) {
  console.error(`pulumi: the Pulumi CLI ${tc.PULUMI_VERSION} is not set up yet; run \`npm run setup\` first.`);
  process.exit(1);
}
const r = spawnSync(path.join(cli, "pulumi"), process.argv.slice(2), {
  stdio: "inherit",
  env: tc.offlineEnv(cli),
});
if (r.error) {
  console.error(`pulumi: ${r.error.message}`);
  process.exit(1);
}
process.exit(r.status ?? 1);
