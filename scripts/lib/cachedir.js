// The per-user cache directory, one definition for setup's tools (the Pulumi
// CLI) and the provider's caches (packages, host probes). Plain CommonJS
// with no dependencies: setup runs it before `npm ci`.
"use strict";

const os = require("node:os");
const path = require("node:path");

/** $VM_IMAGES_CACHE_DIR, else $XDG_CACHE_HOME/pulumi-vm-images, else ~/.cache/pulumi-vm-images. */
function cacheDir() {
  if (process.env.VM_IMAGES_CACHE_DIR) return path.resolve(process.env.VM_IMAGES_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "pulumi-vm-images");
}

module.exports = { cacheDir };
