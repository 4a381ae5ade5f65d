// Interrupting `pulumi up` mid-build leaves no tool process, no temp file and
// no half-written image behind.
import { expect } from "chai";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO, TestProject } from "./harness";

const PULUMI_JS = path.join(REPO, "scripts", "pulumi.js");

/** Command lines of running processes that mention `needle`. */
function processesMentioning(needle: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.includes(needle) && !l.includes("ps -eo"));
}

async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}

describe("e2e: interrupting pulumi up", function () {
  this.timeout(20 * 60_000);

  for (const [signal, stage] of [["SIGINT", "guestfish"], ["SIGTERM", "mmdebstrap"]] as const) {
    it(`on ${signal} during ${stage}, leaves no process, temp file or image`, async () => {
      const project = await TestProject.create({
        program: `require(${JSON.stringify(path.join(REPO, "dist", "index.js"))});\n`,
        files: {
          "images.json": JSON.stringify([{ name: "int.img", image_size: "2G", bootable: false, packages: [] }]),
        },
      });
      const dir = path.join(project.dir, "images");
      try {
        await project.setConfig("imagesFile", "images.json");
        await project.setConfig("dir", "images");
        const up = spawn(process.execPath, [PULUMI_JS, "--cwd", project.dir, "--non-interactive", "up", "--yes", "--skip-preview", "--stack", project.stack], {
          env: { ...process.env, PULUMI_BACKEND_URL: `file://${path.join(project.dir, ".state")}`, PULUMI_CONFIG_PASSPHRASE: "e2e" },
          stdio: "ignore",
        });
        await waitFor(`${stage} to start`, () => processesMentioning(dir).some((p) => p.includes(stage)), 5 * 60_000);
        // As a user does: Ctrl-C, which asks the CLI to cancel, then again, which ends it.
        up.kill(signal);
        await new Promise((r) => setTimeout(r, 1000));
        up.kill(signal);
        await exited(up);
        await waitFor("build processes to end", () => processesMentioning(dir).length === 0, 60_000);
        const left = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !f.endsWith(".log")) : [];
        expect(left, "files left in the images dir").to.deep.equal([]);
      } finally {
        await project.dispose();
      }
    });
  }
});
