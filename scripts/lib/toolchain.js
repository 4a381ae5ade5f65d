// Where the project's toolchain lives and how the Pulumi CLI is run offline.
// Plain CommonJS with no dependencies: setup runs it before `npm ci`.
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { cacheDir } = require("./cachedir");
const { providedBinDir } = require("./node");

/** The CLI setup builds; tools/pulumi-cli/go.mod and package.json's @pulumi/pulumi pin the same version. */
const PULUMI_VERSION = "v3.276.0";
const ROOT = path.resolve(__dirname, "..", "..");
const CLI_SOURCE = path.join(ROOT, "tools", "pulumi-cli");

/** The Go release a wrapper module needs: its go.mod's `go` line. */
function goVersionNeeded(moduleDir = CLI_SOURCE) {
  const m = /^go (\S+)$/m.exec(fs.readFileSync(path.join(moduleDir, "go.mod"), "utf8"));
  return m ? m[1] : "1.26";
}

/** Files whose content decides the built CLI; a change to any of them builds a new one. */
function cliSourceFiles(dir = CLI_SOURCE) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...cliSourceFiles(p));
    else if (/\.(go|mod|sum)$/.test(entry.name)) out.push(p);
  }
  return out.sort();
}

/** The cache directory of the CLI built from tools/pulumi-cli: keyed by version and source hash. */
function builtCliDir() {
  const hash = crypto.createHash("sha256");
  for (const file of cliSourceFiles()) {
    hash.update(path.relative(CLI_SOURCE, file)).update("\0").update(fs.readFileSync(file)).update("\0");
  }
  return path.join(cacheDir(), "pulumi-cli", `${PULUMI_VERSION}-${hash.digest("hex").slice(0, 12)}`);
}

const CLI_FILES = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"];

function hasCli(dir) {
  return CLI_FILES.every((f) => fs.existsSync(path.join(dir, f)));
}

/** A directory on PATH holding all three CLI files, with `pulumi version` exactly PULUMI_VERSION, or null. */
function cliOnPath() {
  for (const dir of (process.env.PATH || "").split(path.delimiter)) {
    if (!dir || !hasCli(dir)) continue;
    const r = spawnSync(path.join(dir, "pulumi"), ["version"], { encoding: "utf8", env: offlineEnv() });
    if (r.status === 0 && r.stdout.trim() === PULUMI_VERSION) return dir;
  }
  return null;
}

/** The directory of the CLI to use: the built one if present, else a matching one on PATH, else null. */
function findCli() {
  const built = builtCliDir();
  if (hasCli(built)) return built;
  return cliOnPath();
}

/**
 * The environment the CLI runs with: never prompts, never goes online.
 * Settings the user made (backend, passphrase, home) win over the defaults.
 * The Node.js that setup provided (lib/node.js) comes first on PATH, so the
 * language host runs programs and the dynamic provider on it even when this
 * script was started by the machine's older Node.js.
 */
function offlineEnv(cliDir) {
  const env = { ...process.env };
  env.PULUMI_HOME ||= path.join(cacheDir(), "pulumi-home");
  env.PULUMI_SKIP_UPDATE_CHECK = "true";
  env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION = "true";
  env.PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK = "true";
  if (!env.PULUMI_BACKEND_URL) {
    const state = path.join(ROOT, ".pulumi-state");
    fs.mkdirSync(state, { recursive: true });
    env.PULUMI_BACKEND_URL = `file://${state}`;
  }
  if (!env.PULUMI_CONFIG_PASSPHRASE && !env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    // Local stacks hold no secrets of value; a fixed passphrase keeps them prompt-free.
    env.PULUMI_CONFIG_PASSPHRASE = "vm-images-local";
  }
  const nodeDir = providedBinDir(ROOT);
  if (nodeDir) env.PATH = `${nodeDir}${path.delimiter}${env.PATH || ""}`;
  if (cliDir) env.PATH = `${cliDir}${path.delimiter}${env.PATH || ""}`;
  return env;
}

module.exports = {
  PULUMI_VERSION,
  ROOT,
  CLI_SOURCE,
  CLI_FILES,
  cacheDir,
  goVersionNeeded,
  builtCliDir,
  hasCli,
  findCli,
  offlineEnv,
};
