#!/usr/bin/env node
// `npm run setup`: installs everything the project needs, and only what is
// missing, so it is cheap to run before every `npm start` and `npm test`.
//
//   1. Debian packages of the image pipeline (apt-get, as root);
//   2. Node.js 24 from the npm registry into the per-user cache, when the
//      machine's Node.js is older than 22 (lib/node.js says how it is used);
//   3. npm dependencies (npm ci), installed by the Node.js the project runs on;
//   4. the Pulumi CLI, its Node.js language host and the dynamic provider
//      shim, built from the Go module proxy into the per-user cache;
//   5. go-containerregistry's crane, the registry client, built the same way;
//   6. the TypeScript build.
//
// It runs on the machine's Node.js, whatever its version (20 included): plain
// CommonJS and the standard library only.
"use strict";

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const tc = require("./lib/toolchain");
const nodejs = require("./lib/node");
const { CRANE_VERSION, cranePath } = require("./lib/crane");

const quiet = process.argv.includes("--quiet");
const log = (msg) => console.log(`setup: ${msg}`);
const verbose = (msg) => quiet || log(msg);

/** Debian packages the image pipeline runs, with why. */
const DEBIAN_PACKAGES = {
  mmdebstrap: "builds root file systems",
  "qemu-utils": "qemu-img: image conversion and resizing",
  "qemu-system-x86": "the libguestfs appliance and boot tests",
  "libguestfs-tools": "guestfish, virt-customize",
  extlinux: "the boot loader of bootable images",
  "syslinux-common": "the MBR boot code of bootable images",
  "linux-image-amd64": "a kernel for the libguestfs appliance",
  e2fsprogs: "mke2fs, resize2fs, debugfs",
  zstd: "compressed root file system archives",
  shellcheck: "checks the shell scripts in npm test",
  strace: "the test that a built image is flushed before it is renamed into place",
  bubblewrap: "the direct backend's sandbox for package scripts and actions",
  slirp4netns: "the sandbox's network, without the host's loopback",
  keyutils: "keyctl: the sandbox's own session keyring",
  nftables: "the sandbox's network policy, loaded in its network namespace",
  "docker-registry": "a real OCI registry on 127.0.0.1 for the registry tests",
  "apache2-utils": "htpasswd: the registry tests with authentication",
  postgresql: "a throw-away PostgreSQL state backend for the fleet tests",
  "apt-utils": "apt-ftparchive: the indexes and Release file of the tests' own signed apt repository",
  gpg: "signs that repository's Release file, with a throw-away key",
  "gpg-agent": "holds that throw-away key while gpg signs",
  "xz-utils": "xz: the .xz package indices vm-images:followArchive reads (security.debian.org has no other)",
  "qemu-user-static": "runs a foreign architecture's binaries (vm-images:arch arm64) through binfmt_misc",
  "binfmt-support": "update-binfmts: registers qemu-user-static's interpreters with the kernel",
  "arch-test": "tells whether the machine runs a foreign architecture's binaries",
  "qemu-system-arm": "qemu-system-aarch64: the boot check of bootable arm64 images",
  "qemu-efi-aarch64": "the UEFI firmware that boot check starts",
  dosfstools: "mkfs.fat: the EFI system partition of bootable arm64 images",
  mtools: "mcopy: the boot loader written into that partition without a mount",
};

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`"${cmd} ${args.join(" ")}" returned non-zero exit code ${r.status}`);
}

function missingDebianPackages() {
  const names = Object.keys(DEBIAN_PACKAGES);
  const r = spawnSync("dpkg-query", ["-W", "-f=${Package} ${db:Status-Status}\n", ...names], { encoding: "utf8" });
  if (r.error) return []; // not a Debian host: the pipeline reports missing tools itself
  const installed = new Set(
    r.stdout.split("\n").filter((l) => l.endsWith(" installed")).map((l) => l.split(" ")[0]),
  );
  return names.filter((n) => !installed.has(n));
}

function ensureDebianPackages() {
  const missing = missingDebianPackages();
  if (missing.length === 0) return verbose("Debian packages present");
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(" ")}`;
  if (process.getuid && process.getuid() !== 0) {
    throw new Error(
      `missing Debian packages: ${missing.map((m) => `${m} (${DEBIAN_PACKAGES[m]})`).join(", ")}.\n` +
        `Install them as root and run setup again:\n  sudo sh -c '${cmd}'`,
    );
  }
  log(`installing Debian packages: ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  run("apt-get", ["update", "-qq"], { env });
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env });
}

/**
 * Foreign architectures run through binfmt_misc: its file system mounted
 * (containers and some hosts do not mount it at boot) and qemu-user-static's
 * interpreters registered. They are registered with the F flag (Debian's
 * qemu-user-static asks for it), so the kernel opens the interpreter once and
 * it works inside the sandbox, where the host's /usr is not seen.
 */
function ensureBinfmt() {
  if (process.platform !== "linux" || (process.getuid && process.getuid() !== 0)) return;
  const dir = "/proc/sys/fs/binfmt_misc";
  if (!fs.existsSync(path.join(dir, "register"))) {
    const r = spawnSync("mount", ["-t", "binfmt_misc", "binfmt_misc", dir], { encoding: "utf8" });
    if (r.status !== 0) return verbose(`binfmt_misc is not available (${(r.stderr || "").trim()}): foreign architectures cannot be built here`);
  }
  if (fs.existsSync(path.join(dir, "qemu-aarch64"))) return verbose("binfmt_misc: qemu-aarch64 registered");
  if (!fs.existsSync("/usr/share/binfmts/qemu-aarch64")) return;
  log("registering qemu-user-static's interpreters with binfmt_misc");
  spawnSync("update-binfmts", ["--enable"], { stdio: quiet ? "ignore" : "inherit" });
}

function newer(a, b) {
  return fs.statSync(a).mtimeMs > fs.statSync(b).mtimeMs;
}

function ensureNode() {
  const node = nodejs.chooseNode({ log });
  if (node.provided) verbose(`Node.js ${node.version} in ${node.binDir} (the machine's is ${node.machine ? node.machine.version : "missing"})`);
  else verbose(`Node.js ${node.version} of the machine (${node.bin})`);
  return node;
}

/** The ABI of a Node.js (process.versions.modules): native npm packages built for one run on no other. */
function nodeAbi(node) {
  const r = spawnSync(node.bin, ["-p", "process.versions.modules"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${node.bin} does not run: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * npm ci when node_modules is missing, older than package-lock.json, or was
 * installed by another Node.js than the one the project runs on (an `npm ci`
 * run by hand leaves no record of which): npm and the packages' install
 * scripts run on the chosen Node.js, so native packages fit it.
 */
function ensureNodeModules(node) {
  const installed = path.join(tc.ROOT, "node_modules", ".package-lock.json");
  const lock = path.join(tc.ROOT, "package-lock.json");
  const marker = path.join(tc.ROOT, "node_modules", ".installed-for-node-abi");
  const abi = nodeAbi(node);
  const sameAbi = fs.existsSync(marker) && fs.readFileSync(marker, "utf8").trim() === abi;
  if (fs.existsSync(installed) && !newer(lock, installed) && sameAbi) return verbose("npm dependencies present");
  log(`installing npm dependencies (npm ci, Node.js ${node.version})`);
  run("npm", ["ci", "--no-audit", "--no-fund"], { cwd: tc.ROOT, env: nodejs.envWithNode(node) });
  fs.writeFileSync(marker, `${abi}\n`);
}

function goBinary() {
  for (const candidate of ["go", "/usr/local/go/bin/go"]) {
    const r = spawnSync(candidate, ["version"], { encoding: "utf8" });
    if (r.status === 0) return candidate;
  }
  return null;
}

function ensurePulumiCli() {
  const found = tc.findCli();
  if (found) return verbose(`Pulumi CLI ${tc.PULUMI_VERSION} in ${found}`);

  const go = goBinary();
  if (!go) {
    throw new Error(
      `the Pulumi CLI ${tc.PULUMI_VERSION} is not on PATH and Go is not installed to build it.\n` +
        `Install Go ${tc.goVersionNeeded()} or later, or put pulumi, pulumi-language-nodejs and pulumi-resource-pulumi-nodejs ` +
        `${tc.PULUMI_VERSION} on PATH (see docs/setup.md).`,
    );
  }
  const dest = tc.builtCliDir();
  const tmp = `${dest}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const started = Date.now();
  log(`building the Pulumi CLI ${tc.PULUMI_VERSION} from the Go module proxy into ${dest} (first run only; several minutes)`);
  try {
    const ldflags = `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${tc.PULUMI_VERSION}`;
    const env = { ...process.env };
    run(go, ["build", "-trimpath", "-ldflags", ldflags, "-o", path.join(tmp, "pulumi"), "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"], { cwd: tc.CLI_SOURCE, env });
    run(go, ["build", "-trimpath", "-ldflags", ldflags, "-o", path.join(tmp, "pulumi-language-nodejs"), "./cmd/pulumi-language-nodejs"], { cwd: tc.CLI_SOURCE, env });
    const shim = path.join(tc.ROOT, "node_modules", "@pulumi", "pulumi", "pulumi-resource-pulumi-nodejs");
    fs.copyFileSync(shim, path.join(tmp, "pulumi-resource-pulumi-nodejs"));
    fs.chmodSync(path.join(tmp, "pulumi-resource-pulumi-nodejs"), 0o755);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.renameSync(tmp, dest);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  log(`built the Pulumi CLI in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** crane from the Go module proxy through tools/crane, into the per-user cache; reused while its version is unchanged. */
function ensureCrane() {
  const dest = cranePath();
  if (fs.existsSync(dest)) return verbose(`crane ${CRANE_VERSION} in ${dest}`);
  const go = goBinary();
  if (!go) throw new Error(`crane ${CRANE_VERSION} is not in ${dest} and Go is not installed to build it: install Go ${tc.goVersionNeeded(source)} or later`);
  const source = path.join(tc.ROOT, "tools", "crane");
  const tmp = `${dest}.tmp-${process.pid}`;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const started = Date.now();
  log(`building crane ${CRANE_VERSION} from the Go module proxy into ${dest} (first run only)`);
  try {
    run(go, ["build", "-trimpath", "-o", tmp, "github.com/google/go-containerregistry/cmd/crane"], { cwd: source });
    fs.renameSync(tmp, dest);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  log(`built crane in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function ensureBuild(node) {
  // tsc is incremental (tsconfig.json): an up-to-date build costs about a second.
  verbose("compiling TypeScript");
  run(node.bin, [path.join(tc.ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", tc.ROOT]);
}

function main() {
  const started = Date.now();
  ensureDebianPackages();
  ensureBinfmt();
  const node = ensureNode();
  ensureNodeModules(node);
  // After npm ci, which empties node_modules: from here on npm scripts find this Node.js first.
  nodejs.linkNode(tc.ROOT, node);
  ensurePulumiCli();
  ensureCrane();
  ensureBuild(node);
  verbose(`done in ${((Date.now() - started) / 1000).toFixed(1)} s (cache: ${tc.cacheDir()}, ${os.userInfo().username})`);
}

try {
  main();
} catch (err) {
  console.error(`setup: ${err.message}`);
  process.exit(1);
}
