// The fingerprint of the pipeline's sources: every file that decides what an
// image contains. \`node dist/test/support/pipeline.js\` prints it.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

const PROVIDER = path.resolve(__dirname, "..", "..", "..", "provider");

/** The sources that decide what an image contains: the actions, the backends and what they run. */
const DECIDING = [
  /^actions\//,
  /^build\/backends\//,
  /^build\/sh\//,
  /^build\/(actioncontext|boot|chroot|mmdebstrap)\.ts$/,
];

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : [path.relative(PROVIDER, p).split(path.sep).join("/")];
  });
}

export function pipelineFingerprint(): string {
  const hash = createHash("sha256");
  for (const rel of files(PROVIDER).filter((f) => DECIDING.some((re) => re.test(f))).sort()) {
    hash.update(`${rel}\0`).update(fs.readFileSync(path.join(PROVIDER, rel))).update("\0");
  }
  return hash.digest("hex");
}

if (require.main === module) console.log(pipelineFingerprint());
