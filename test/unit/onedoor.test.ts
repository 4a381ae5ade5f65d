// Processes start at one door, builder/run/exec.ts: no other module of
// provider/ imports execa or child_process, or sends a signal with
// process.kill (signal 0, a liveness probe, sends none). So every command
// gets exec's time limit, abort signal, logging, PID namespace and session.
// Modules are read by TypeScript itself (test/support/imports.ts).
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import ts from "typescript";
import { importsOf, PROVIDER, sources } from "../support/imports";

const DOOR = path.join(PROVIDER, "builder", "run", "exec.ts");
const SPAWNERS = [/^execa(\/|$)/, /^(node:)?child_process$/];

/** `file imports spec` for each import of a process spawner outside `door`. */
function spawnerImports(files: string[], root: string, door: string): string[] {
  return files.filter((f) => f !== door).flatMap((file) => importsOf(file)
    .filter(({ spec }) => SPAWNERS.some((re) => re.test(spec)))
    .map(({ spec }) => `${path.relative(root, file)} imports ${spec}`));
}

/** Whether `call` is process.kill(...) or process["kill"](...). */
function isProcessKill(call: ts.CallExpression): boolean {
  const callee = call.expression;
  const name = ts.isPropertyAccessExpression(callee) ? callee.name.text
    : ts.isElementAccessExpression(callee) && ts.isStringLiteralLike(callee.argumentExpression) ? callee.argumentExpression.text : undefined;
  const target = ts.isPropertyAccessExpression(callee) || ts.isElementAccessExpression(callee) ? callee.expression : undefined;
  return name === "kill" && target !== undefined && ts.isIdentifier(target) && target.text === "process";
}

/** `file:line call` for each process.kill that sends a signal (any but a literal 0; none given is SIGTERM). */
function signalsSent(files: string[], root: string, door: string): string[] {
  return files.filter((f) => f !== door).flatMap((file) => {
    const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const found: string[] = [];
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node) && isProcessKill(node)) {
        const signal = node.arguments[1];
        if (!(signal && ts.isNumericLiteral(signal) && signal.text === "0")) {
          const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
          found.push(`${path.relative(root, file)}:${line} ${node.getText()}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
  });
}

describe("one door to processes", () => {
  const files = sources(PROVIDER);

  it("reads the door and the modules that stream a command's output", () => {
    for (const m of [DOOR, "builder/boot/check.ts", "builder/oci/pull.ts", "builder/oci/crane.ts"]) {
      expect(files, m).to.include(path.resolve(PROVIDER, m));
    }
  });

  it("only builder/run/exec.ts imports execa or child_process", () => {
    expect(spawnerImports(files, PROVIDER, DOOR)).to.deep.equal([]);
  });

  it("no module sends a signal with process.kill", () => {
    expect(signalsSent(files, PROVIDER, DOOR)).to.deep.equal([]);
  });

  it("sees every way of importing a spawner or sending a signal, and lets the door and signal 0 pass", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-onedoor-"));
    try {
      const probes: Record<string, string> = {
        "door.ts": "import execa from \"execa\";\nprocess.kill(1, \"SIGKILL\");\n",
        "a.ts": "import execa from 'execa';\n",
        "b.ts": "import { spawn } from \"node:child_process\";\n",
        "c.ts": "const cp = require(\"child_process\");\n",
        "d.ts": "export async function f() { return import(\"node:child_process\"); }\n",
        "e.ts": "import type { ChildProcess } from \"child_process\";\nexport { execaNode } from \"execa\";\n",
        "f.ts": "export const alive = (pid: number) => process.kill(pid, 0);\n",
        "g.ts": "process.kill(1);\nprocess.kill(-2, \"SIGTERM\");\nprocess[\"kill\"](3, 9);\nprocess.kill(4, 0 + 1);\n",
      };
      for (const [name, text] of Object.entries(probes)) fs.writeFileSync(path.join(dir, name), text);
      const all = Object.keys(probes).map((n) => path.join(dir, n));
      const door = path.join(dir, "door.ts");
      expect(spawnerImports(all, dir, door)).to.deep.equal([
        "a.ts imports execa", "b.ts imports node:child_process", "c.ts imports child_process", "d.ts imports node:child_process",
        "e.ts imports child_process", "e.ts imports execa",
      ]);
      expect(signalsSent(all, dir, door)).to.deep.equal([
        "g.ts:1 process.kill(1)", "g.ts:2 process.kill(-2, \"SIGTERM\")", "g.ts:3 process[\"kill\"](3, 9)", "g.ts:4 process.kill(4, 0 + 1)",
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
