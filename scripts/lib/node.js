// Which Node.js the project runs on, and bringing Node.js 24 when the
// machine's is too old. @pulumi/pulumi 3.249 and later need Node.js 22; many
// machines still have Node.js 20 (end of life since April 2026). The npm
// registry serves Node.js itself as a package (`node-<platform>-<arch>`, the
// official binary in bin/node), so setup fetches it with the machine's own npm
// into the per-user cache and links it as node_modules/.bin/node: npm puts
// that directory first on PATH for every npm script (and npx), so `npm test`,
// `npm start` and everything they start, the Pulumi language host included,
// run on it. Plain CommonJS with no dependencies: setup runs it on the
// machine's Node.js, before `npm ci`.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { cacheDir } = require("./cachedir");

/** The oldest Node.js major the project runs on (that of @pulumi/pulumi's `engines`). */
const MIN_NODE_MAJOR = 22;
/** The Node.js that setup provides when the machine's is older: the current LTS. */
const NODE_VERSION = "24.22.3";
/** The registry's integrity of each platform's package at NODE_VERSION: a tarball that differs is refused. */
const NODE_INTEGRITY = {
  "linux-x64": "sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==",
  "linux-arm64": "sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==",
};

const platform = () => `${process.platform}-${process.arch}`;

/** The major of a `node --version` ("v20.20.2" is 20), or NaN. */
function nodeMajor(version) {
  const m = /^v?(\d+)\./.exec(String(version || "").trim());
  return m ? Number(m[1]) : NaN;
}

/** Whether the project runs on this Node.js version as it is. */
function supported(version) {
  return nodeMajor(version) >= MIN_NODE_MAJOR;
}

/** Where setup keeps the Node.js it provides: per version and platform. */
function providedNodeDir(cache = cacheDir()) {
  return path.join(cache, "node", `v${NODE_VERSION}-${platform()}`);
}

/** node_modules/.bin/node of a project: the `node` its npm scripts find first. */
function nodeLink(root) {
  return path.join(root, "node_modules", ".bin", "node");
}

/** Whether a path lies inside the cache's node directory (a Node.js that setup provided). */
function insideProvided(file, cache = cacheDir()) {
  const rel = path.relative(path.join(cache, "node"), file);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

/**
 * The bin directory of the provided Node.js when setup linked it into this
 * project (the machine's is too old), else null. Put first on PATH, it gives
 * the language host and the dynamic provider the same Node.js as npm scripts.
 */
function providedBinDir(root, cache = cacheDir()) {
  let target;
  try {
    target = path.resolve(path.dirname(nodeLink(root)), fs.readlinkSync(nodeLink(root)));
  } catch {
    return null;
  }
  return insideProvided(target, cache) && fs.existsSync(target) ? path.dirname(target) : null;
}

/** `<bin> --version`, or null when it does not run. */
function versionOf(bin) {
  const r = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * The machine's own Node.js: the first `node` on PATH that is neither a
 * project's node_modules/.bin nor one setup provided. Null when there is none.
 */
function machineNode(envPath = process.env.PATH || "", cache = cacheDir()) {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir || (path.basename(dir) === ".bin" && path.basename(path.dirname(dir)) === "node_modules")) continue;
    const bin = path.join(dir, "node");
    let real;
    try {
      fs.accessSync(bin, fs.constants.X_OK);
      real = fs.realpathSync(bin);
    } catch {
      continue;
    }
    if (insideProvided(real, cache)) continue;
    const version = versionOf(bin);
    if (version) return { bin, version };
  }
  return null;
}

function run(cmd, args, opts) {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`"${cmd} ${args.join(" ")}" exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/**
 * Fetches node-<platform>-<arch>@NODE_VERSION with npm (the user's registry,
 * proxy and npm cache), checks its integrity and version, and moves it into
 * place whole, so an interrupted fetch leaves nothing half there.
 */
function fetchNode(dest, npm = "npm") {
  const expected = NODE_INTEGRITY[platform()];
  if (!expected) {
    throw new Error(
      `setup provides Node.js ${NODE_VERSION} for ${Object.keys(NODE_INTEGRITY).join(" and ")}, not ${platform()}: ` +
        `install Node.js ${MIN_NODE_MAJOR} or later and run setup again`,
    );
  }
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = fs.mkdtempSync(`${dest}.tmp-`);
  try {
    const spec = `node-${platform()}@${NODE_VERSION}`;
    const out = run(npm, ["pack", spec, "--json", "--pack-destination", tmp], { cwd: tmp, maxBuffer: 16 * 1024 * 1024 });
    const [packed] = JSON.parse(out);
    if (packed.integrity !== expected) {
      throw new Error(`${spec} from the npm registry has integrity ${packed.integrity}, expected ${expected}: refusing it`);
    }
    run("tar", ["-xzf", path.join(tmp, packed.filename), "-C", tmp]);
    const bin = path.join(tmp, "package", "bin", "node");
    const version = versionOf(bin);
    if (version !== `v${NODE_VERSION}`) throw new Error(`${spec}: bin/node says ${version ?? "nothing"}, expected v${NODE_VERSION}`);
    // Another setup (a second checkout) may have put it there meanwhile: then theirs stays.
    if (versionOf(path.join(dest, "bin", "node")) === version) return;
    fs.rmSync(dest, { recursive: true, force: true });
    try {
      fs.renameSync(path.join(tmp, "package"), dest);
    } catch (err) {
      if (versionOf(path.join(dest, "bin", "node")) !== version) throw err;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The Node.js the project runs on: the machine's when it is new enough,
 * else the provided one (fetched into the cache if missing). `bin` is its
 * executable, `binDir` the directory to put first on PATH when provided.
 */
function chooseNode({ envPath = process.env.PATH || "", cache = cacheDir(), npm = "npm", log = () => {} } = {}) {
  const machine = machineNode(envPath, cache);
  if (machine && supported(machine.version)) return { ...machine, provided: false, machine };
  const dir = providedNodeDir(cache);
  const bin = path.join(dir, "bin", "node");
  if (versionOf(bin) !== `v${NODE_VERSION}`) {
    log(`${machine ? `Node.js ${machine.version} is older than ${MIN_NODE_MAJOR}` : "no Node.js on PATH"}: ` +
      `fetching Node.js ${NODE_VERSION} from the npm registry into ${dir} (first run only)`);
    fetchNode(dir, npm);
  }
  return { bin, binDir: path.dirname(bin), version: `v${NODE_VERSION}`, provided: true, machine };
}

/**
 * Makes the project's npm scripts run on the chosen Node.js: links the
 * provided one as node_modules/.bin/node, or removes such a link when the
 * machine's own is used. A `node` there that setup did not make is left alone.
 */
function linkNode(root, choice, cache = cacheDir()) {
  const link = nodeLink(root);
  let current = null;
  try {
    current = path.resolve(path.dirname(link), fs.readlinkSync(link));
  } catch {
    if (fs.existsSync(link)) return; // a file of the user's own
  }
  if (choice.provided) {
    if (current === choice.bin) return;
    if (current !== null && !insideProvided(current, cache)) return;
    fs.mkdirSync(path.dirname(link), { recursive: true });
    const tmp = `${link}.tmp-${process.pid}`;
    fs.rmSync(tmp, { force: true });
    fs.symlinkSync(choice.bin, tmp);
    fs.renameSync(tmp, link);
  } else if (current !== null && insideProvided(current, cache)) {
    fs.rmSync(link, { force: true });
  }
}

/** An environment whose PATH starts with the chosen Node.js (when provided). */
function envWithNode(choice, env = process.env) {
  if (!choice.provided) return { ...env };
  return { ...env, PATH: `${choice.binDir}${path.delimiter}${env.PATH || ""}` };
}

module.exports = {
  MIN_NODE_MAJOR,
  NODE_VERSION,
  nodeMajor,
  supported,
  providedNodeDir,
  providedBinDir,
  machineNode,
  chooseNode,
  linkNode,
  envWithNode,
  nodeLink,
};
