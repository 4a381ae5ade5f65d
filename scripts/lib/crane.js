// Where setup puts go-containerregistry's `crane`, the registry client the
// provider runs for pull, publish and the registry cache. One definition for
// setup (which builds it) and the provider (which runs it). Plain CommonJS
// with no dependencies, shipped with the package.
"use strict";

const path = require("node:path");
const { cacheDir } = require("./cachedir");

/** The crane release setup builds from tools/crane (its go.mod pins the same version). */
const CRANE_VERSION = "v0.21.9";

/** `crane` in the per-user cache, keyed by version, or $VM_IMAGES_CRANE. */
function cranePath() {
  if (process.env.VM_IMAGES_CRANE) return path.resolve(process.env.VM_IMAGES_CRANE);
  return path.join(cacheDir(), "crane", CRANE_VERSION, "crane");
}

module.exports = { CRANE_VERSION, cranePath };
