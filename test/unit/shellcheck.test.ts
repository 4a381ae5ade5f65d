// Every shell script of the package passes shellcheck.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..", "..");

function scripts(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name.startsWith(".") || e.name === "dist" ? [] : scripts(p);
    return e.name.endsWith(".sh") ? [p] : [];
  });
}

describe("shell scripts", () => {
  const files = scripts(ROOT);

  it("are found in provider/, examples/ and scripts/", () => {
    expect(files.some((f) => f.includes(`${path.sep}provider${path.sep}builder${path.sep}sh${path.sep}`))).to.equal(true);
    expect(files.some((f) => f.includes(`${path.sep}provider${path.sep}actions${path.sep}sh${path.sep}`))).to.equal(true);
  });

  it("pass shellcheck", () => {
    const r = spawnSync("shellcheck", ["--external-sources", ...files], { encoding: "utf8" });
    if (r.error) throw new Error(`shellcheck: ${r.error.message} (npm run setup installs it)`);
    expect(r.stdout + r.stderr, "shellcheck findings").to.equal("");
    expect(r.status).to.equal(0);
  });
});
