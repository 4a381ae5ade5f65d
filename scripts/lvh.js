#!/usr/bin/env node
// `npm run lvh -- images build [flags]`: lvh's image build command line,
// carried out by Pulumi on a stack. Prints the pulumi commands it runs, so
// they can be used directly too. `npm run lvh -- images pull REF --dir D`:
// lvh's pull, without a Docker daemon. See docs/coming-from-lvh.md.
"use strict";

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

/** The Pulumi project: this repository, or --cwd. */
let project = path.resolve(__dirname, "..");
const USAGE = `usage: npm run lvh -- images build [flags]

  --dir DIR          lvh's data directory: images from DIR/images.json, built into DIR/images
                     (saved in the stack's config; without it the stack's config is used)
  --image NAME       build NAME, the images it derives from and the images derived from it
  --force-rebuild    rebuild the images even if they are up to date (with --image: that one)
  --dry-run          show what would be built and why (pulumi preview --diff); build nothing
  --merge-steps[=B]  merge virt-customize steps (true or false; saved in the stack's config)
  --pkg-repo SUITE   Debian suite of root images (saved in the stack's config)
  --stack NAME       the Pulumi stack (default: lvh with --dir, else $VM_IMAGES_STACK or dev)
  --cwd DIR          the Pulumi project (default: this repository)

usage: npm run lvh -- images pull REF --dir DIR [--cache] [--platform OS/ARCH]

  REF                a published lvh image, such as quay.io/lvh-images/kind:6.6-main
  --dir DIR          the images land in DIR/images, decompressed
  --cache            keep each DIR/images/<image>.zst too
  --platform P       the platform of a multi-platform image (default: the host's)
  --insecure         plain HTTP or unverified TLS for a registry not on loopback`;

class UsageError extends Error {}

function parseArgs(argv) {
  const args = [...argv];
  if (args[0] === "images") args.shift();
  if (args[0] === "build") args.shift();
  const opts = { forceRebuild: false, dryRun: false };
  const value = (flag, inline) => {
    const v = inline ?? args.shift();
    if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  while (args.length) {
    const arg = args.shift();
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    switch (flag) {
      case "--dir": opts.dir = value(flag, inline); break;
      case "--image": opts.image = value(flag, inline); break;
      case "--stack": opts.stack = value(flag, inline); break;
      case "--cwd": opts.cwd = value(flag, inline); break;
      case "--pkg-repo": opts.suite = value(flag, inline); break;
      case "--force-rebuild": opts.forceRebuild = true; break;
      case "--dry-run": opts.dryRun = true; break;
      case "--merge-steps":
        if (inline !== undefined && inline !== "true" && inline !== "false") throw new UsageError("--merge-steps is true or false");
        opts.mergeSteps = inline ?? "true";
        break;
      case "-h": case "--help": console.log(USAGE); process.exit(0); // eslint-disable-line no-fallthrough
      default: throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  opts.stack ??= opts.dir ? "lvh" : process.env.VM_IMAGES_STACK || "dev";
  return opts;
}

/** Run the project's pulumi CLI; exits with its code on failure unless `check` is false. */
function pulumi(args, { quiet = false, check = true } = {}) {
  const r = spawnSync(process.execPath, [path.join(__dirname, "pulumi.js"), ...args], {
    cwd: project, encoding: "utf8", stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit",
  });
  if (check && r.status !== 0) {
    if (quiet) process.stderr.write(r.stderr || r.stdout || "");
    process.exit(r.status ?? 1);
  }
  return r;
}

/** A path for the stack config: relative to the project when inside it. */
function configPath(p) {
  const rel = path.relative(project, p);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : p;
}

function parsePullArgs(argv) {
  const args = [...argv];
  const opts = { cache: false, insecure: false };
  while (args.length) {
    const arg = args.shift();
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? args.shift();
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--dir": opts.dir = value(); break;
      case "--platform": opts.platform = value(); break;
      case "--cache": opts.cache = true; break;
      case "--insecure": opts.insecure = true; break;
      default:
        if (arg.startsWith("-") || opts.ref !== undefined) throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
        opts.ref = arg;
    }
  }
  if (opts.ref === undefined) throw new UsageError("images pull needs a reference, such as quay.io/lvh-images/kind:6.6-main");
  if (opts.dir === undefined) throw new UsageError("images pull needs --dir");
  return opts;
}

/** lvh's `images pull REF --dir D`: D/images/<image> for each image of REF. */
async function pull(argv) {
  const opts = parsePullArgs(argv);
  const { pullImages } = require("../dist/provider/builder/oci/pull");
  const { registrySession } = require("../dist/provider/builder/oci/crane");
  const where = process.env.INIT_CWD || process.cwd();
  const session = registrySession();
  const log = { file: "(stderr)", line: (label, text) => console.error(`${label} | ${text}`), close: async () => {} };
  try {
    const r = await pullImages({
      ref: opts.ref, dir: path.join(path.resolve(where, opts.dir), "images"), platform: opts.platform,
      cache: opts.cache, insecure: opts.insecure, log, label: "pull", session,
    });
    console.log(`lvh: pulled ${r.pinned}: ${r.files.map((f) => f.path).join(" ")}`);
  } finally {
    session.close();
  }
}

function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === "images" && argv[1] === "pull") {
    pull(argv.slice(2)).catch((err) => {
      console.error(`lvh: ${err.message}`);
      if (err instanceof UsageError) console.error(`\n${USAGE}`);
      process.exit(err instanceof UsageError ? 2 : 1);
    });
    return;
  }
  const opts = parseArgs(argv);
  const { forestUrn, imageUrn } = require("../dist/provider/model/urns");
  const { Forest: ImageForest } = require("../dist/provider/model/forest");
  const { loadLvhImagesFile } = require("../dist/provider/model/imagesfile");
  const { parseStackConfig } = require("../dist/provider/model/stackconfig");
  const where = process.env.INIT_CWD || process.cwd();
  if (opts.cwd) project = path.resolve(where, opts.cwd);
  const stack = opts.stack;

  pulumi(["stack", "select", stack, "--create", "--non-interactive"], { quiet: true });
  const settings = {};
  if (opts.dir) {
    const dir = path.resolve(where, opts.dir);
    const imagesFile = path.join(dir, "images.json");
    if (!fs.existsSync(imagesFile)) throw new UsageError(`--dir ${opts.dir}: ${imagesFile} does not exist`);
    settings["vm-images:imagesFile"] = configPath(imagesFile);
    settings["vm-images:dir"] = configPath(path.join(dir, "images"));
  }
  if (opts.suite !== undefined) settings["vm-images:suite"] = opts.suite;
  if (opts.mergeSteps !== undefined) settings["vm-images:mergeSteps"] = opts.mergeSteps;

  // A dry run changes nothing, the stack's config included: it previews with a copy.
  let configFile = [];
  let scratch;
  if (opts.dryRun && Object.keys(settings).length) {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-lvh-"));
    const copy = path.join(scratch, `Pulumi.${stack}.yaml`);
    const own = path.join(project, `Pulumi.${stack}.yaml`);
    fs.writeFileSync(copy, fs.existsSync(own) ? fs.readFileSync(own) : "");
    configFile = ["--config-file", copy];
  }
  try {
    for (const [key, value] of Object.entries(settings)) {
      pulumi(["config", "set", "--stack", stack, ...configFile, key, value], { quiet: true });
    }
    const config = JSON.parse(pulumi(["config", "--stack", stack, ...configFile, "--json"], { quiet: true }).stdout || "{}");
    const values = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v.value)]));
    const stackSettings = parseStackConfig(values, project);
    const forest = ImageForest.of(loadLvhImagesFile(stackSettings.imagesFile));
    const projectName = /^name:\s*(\S+)/m.exec(fs.readFileSync(path.join(project, "Pulumi.yaml"), "utf8"))[1];
    const urn = (name) => imageUrn(stack, projectName, name);

    const args = [];
    let images = forest.names();
    if (opts.image !== undefined) {
      if (!forest.has(opts.image)) {
        throw new UsageError(`--image ${opts.image}: no such image in ${stackSettings.imagesFile}; the images are ${forest.names().join(", ")}`);
      }
      // The image and what it derives from, as lvh builds them, and the
      // images derived from it, so that none is left derived from an old
      // image. (--target-dependents would also take in the images derived
      // from its ancestors: its siblings.)
      const chain = [opts.image, ...forest.dependencies(opts.image).reverse(), ...forest.descendants(opts.image)];
      for (const name of chain) args.push("--target", urn(name));
      args.push("--target", forestUrn(stack, projectName));
      images = [opts.image];
    }
    if (opts.forceRebuild) for (const name of images) args.push("--replace", urn(name));
    const command = opts.dryRun
      ? ["preview", "--diff", "--stack", stack, ...configFile, ...args]
      : ["up", "--yes", "--stack", stack, ...args];
    console.log(`lvh: pulumi ${command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(" ")}`);
    const r = pulumi([...command, "--non-interactive"], { check: false });
    process.exitCode = r.status ?? 1;
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  console.error(`lvh: ${err.message}`);
  if (err instanceof UsageError) console.error(`\n${USAGE}`);
  process.exit(2);
}
