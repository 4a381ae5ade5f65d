#!/usr/bin/env node
// `npm start`: `pulumi up` on stack dev (or $VM_IMAGES_STACK), creating the
// stack on first use.
"use strict";

const path = require("node:path");
const { spawnSync } = require("node:child_process");

const stack = process.env.VM_IMAGES_STACK || "dev";
const pulumi = (...args) => {
  const r = spawnSync(process.execPath, [path.join(__dirname, "pulumi.js"), ...args], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

pulumi("stack", "select", stack, "--create", "--non-interactive");
pulumi("up", "--yes", "--non-interactive", "--stack", stack);
