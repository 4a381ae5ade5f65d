#!/usr/bin/env node
// `npm start`: `pulumi up` on stack dev (or $VM_IMAGES_STACK), creating the
// stack on first use, then a table of what it did per image (the stack's
// `summary` output). Arguments are passed on to `pulumi up`
// (`npm start -- --target URN`). No preview first (`npm run pulumi -- preview`
// is the dry run), and no dump of the outputs: the table says it shorter.
"use strict";

const path = require("node:path");
const { spawnSync } = require("node:child_process");

const stack = process.env.VM_IMAGES_STACK || "dev";
const pulumi = (args, opts = {}) => {
  const r = spawnSync(process.execPath, [path.join(__dirname, "pulumi.js"), ...args], {
    stdio: opts.capture ? ["ignore", "pipe", "inherit"] : "inherit",
    encoding: "utf8",
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
  return r.stdout;
};

const units = ["B", "KiB", "MiB", "GiB", "TiB"];
function bytes(n) {
  if (typeof n !== "number") return "-";
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

/** The summary output as a table: image, result, build time (boot check), size (on disk). */
function table(summary) {
  const rows = [["image", "result", "build time", "size (on disk)"]];
  for (const [name, s] of Object.entries(summary)) {
    const time = typeof s.seconds === "number" ? `${s.seconds.toFixed(1)} s` : "-";
    const boot = typeof s.bootCheckSeconds === "number" ? ` (boot check ${s.bootCheckSeconds.toFixed(1)} s)` : "";
    rows.push([name, s.result, time + boot, `${bytes(s.sizeBytes)} (${bytes(s.allocatedBytes)})`]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
}

pulumi(["stack", "select", stack, "--create", "--non-interactive"]);
pulumi(["up", "--yes", "--non-interactive", "--skip-preview", "--suppress-outputs", "--stack", stack, ...process.argv.slice(2)]);
const summary = JSON.parse(pulumi(["stack", "output", "summary", "--json", "--stack", stack], { capture: true }) || "{}");
console.log(table(summary));
