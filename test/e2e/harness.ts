// An end-to-end harness around the real Pulumi CLI: a throw-away project
// directory, a file:// backend and a stack of its own, driven through
// `scripts/pulumi.js` exactly as `npm run pulumi` drives it.
import { execFile } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";

export const REPO = path.resolve(__dirname, "..", "..", "..");
const PULUMI_JS = path.join(REPO, "scripts", "pulumi.js");
/**
 * Tests build for real: the user's cache of built images and root disks is
 * off unless a test turns it on (with a directory of its own).
 */
const NO_IMAGE_CACHE = { VM_IMAGES_CACHE_MAX: "0" };

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One step of `preview --json`: what the engine would do to which resource. */
export interface PreviewStep {
  op: string;
  urn: string;
  diffReasons?: string[];
  replaceReasons?: string[];
  detailedDiff?: Record<string, { kind: string }>;
}

export interface Preview {
  steps: PreviewStep[];
  changeSummary: Record<string, number>;
  diagnostics?: { message: string; severity: string; urn?: string }[];
}

export interface ProjectOptions {
  /** CommonJS source of the program's index.js. */
  program: string;
  /** Stack config, `vm-images:` keys without the namespace are namespaced. */
  config?: Record<string, string>;
  /** Extra files, relative path to content. */
  files?: Record<string, string>;
  /** Extra environment for every CLI run. */
  env?: Record<string, string>;
  /**
   * The program's own npm dependencies, installed with `npm install` into its
   * directory; without them the program uses this repository's node_modules.
   */
  dependencies?: Record<string, string>;
  /** A shared state backend (such as postgres://) instead of a file:// backend of the project's own. */
  backendUrl?: string;
  /** Use this project's stack (same name, its stack file copied: same config and secrets) instead of a new one. */
  joinStack?: TestProject;
  /** More of Pulumi.yaml (such as a `plugins:` section), appended as written. */
  pulumiYaml?: string;
  /** Without `dependencies`: no node_modules at all (for `pulumi install` to make), instead of this repository's. */
  noNodeModules?: boolean;
  /** Without `dependencies`: this node_modules directory (another build of the package) instead of this repository's. */
  nodeModules?: string;
}

/** Run a command; resolves with its exit code and output, never throws. */
export function runCommand(cmd: string, args: string[], opts: { cwd?: string; env: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { ...opts, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Run a Node.js script; resolves with its exit code and output, never throws. */
function runNode(args: string[], opts: { cwd?: string; env: NodeJS.ProcessEnv }): Promise<RunResult> {
  return runCommand(process.execPath, args, opts);
}

export class TestProject {
  private constructor(
    readonly dir: string,
    readonly stack: string,
    private readonly env: Record<string, string | undefined>,
    /** A command the CLI runs under (such as `unshare --uts ...`), its arguments after it. */
    private readonly wrapper: readonly string[] = [],
  ) {}

  /**
   * This repository's own project with one of its shipped stacks, in a
   * throw-away directory: Pulumi.yaml, the stack's file and examples/ are
   * copied (so a test may edit them), dist/ and node_modules/ linked, and the
   * state kept in a file:// backend of its own. The passphrase is the local
   * default the shipped stack files were made with.
   */
  static async fromRepo(stack: string, env: Record<string, string> = {}, wrapper: string[] = []): Promise<TestProject> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "vm-images-e2e-"));
    for (const link of ["node_modules", "dist", "package.json"]) await fs.symlink(path.join(REPO, link), path.join(dir, link));
    for (const file of ["Pulumi.yaml", `Pulumi.${stack}.yaml`]) await fs.copyFile(path.join(REPO, file), path.join(dir, file));
    await fs.cp(path.join(REPO, "examples"), path.join(dir, "examples"), { recursive: true });
    await fs.mkdir(path.join(dir, ".state"));
    const project = new TestProject(dir, stack, {
      PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}`,
      PULUMI_CONFIG_PASSPHRASE: undefined,
      PULUMI_CONFIG_PASSPHRASE_FILE: undefined,
      ...NO_IMAGE_CACHE,
      ...env,
    }, wrapper);
    await project.must("stack", "init", stack);
    return project;
  }

  static async create(opts: ProjectOptions): Promise<TestProject> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "vm-images-e2e-"));
    await fs.writeFile(
      path.join(dir, "Pulumi.yaml"),
      "name: vm-images-e2e\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n" + (opts.pulumiYaml ?? ""),
    );
    await fs.writeFile(path.join(dir, "index.js"), opts.program);
    const pkg = { name: "vm-images-e2e", private: true, ...(opts.dependencies ? { dependencies: opts.dependencies } : {}) };
    await fs.writeFile(path.join(dir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
    for (const [rel, content] of Object.entries(opts.files ?? {})) {
      await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await fs.writeFile(path.join(dir, rel), content);
    }
    if (opts.dependencies) {
      const npm = await runCommand("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: dir, env: process.env });
      if (npm.code !== 0) throw new Error(`npm install in ${dir} exited ${npm.code}\n${npm.stdout}\n${npm.stderr}`);
    } else if (!opts.noNodeModules) {
      await fs.symlink(opts.nodeModules ?? path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
    }
    await fs.mkdir(path.join(dir, ".state"));
    const env = {
      PULUMI_BACKEND_URL: opts.backendUrl ?? `file://${path.join(dir, ".state")}`,
      PULUMI_CONFIG_PASSPHRASE: "e2e",
      ...NO_IMAGE_CACHE,
      ...opts.env,
    };
    const project = new TestProject(dir, "e2e", env);
    if (opts.joinStack) {
      const file = `Pulumi.${opts.joinStack.stack}.yaml`;
      await fs.copyFile(path.join(opts.joinStack.dir, file), path.join(dir, file));
    } else {
      await project.must("stack", "init", project.stack);
    }
    for (const [key, value] of Object.entries(opts.config ?? {})) await project.setConfig(key, value);
    return project;
  }

  /**
   * A project already on disk whose state lives in its own `.state` file
   * backend (such as one restored from a fixture), with the stack given.
   */
  static existing(dir: string, stack: string, env: Record<string, string | undefined> = {}): TestProject {
    return new TestProject(dir, stack, { PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}`, ...NO_IMAGE_CACHE, ...env });
  }

  /** Run the CLI in the project; never throws on a non-zero exit. */
  run(...args: string[]): Promise<RunResult> {
    return this.runWith({}, ...args);
  }

  /** Run the CLI with extra environment variables; never throws on a non-zero exit. */
  runWith(env: Record<string, string>, ...args: string[]): Promise<RunResult> {
    const cli = [PULUMI_JS, "--cwd", this.dir, "--non-interactive", ...args];
    const opts = { env: { ...this.environment(), ...env } };
    return this.wrapper.length ? runCommand(this.wrapper[0], [...this.wrapper.slice(1), process.execPath, ...cli], opts) : runNode(cli, opts);
  }

  /** The environment of CLI runs: ours with the project's settings; an undefined value removes a variable. */
  environment(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.env };
    for (const [k, v] of Object.entries(this.env)) if (v === undefined) delete env[k];
    return env;
  }

  /** Run a script of this repository (such as dist/cli/lvh.js) in the project directory, with its environment; never throws. */
  script(file: string, ...args: string[]): Promise<RunResult> {
    const env = this.environment();
    delete env.INIT_CWD; // set by npm for `npm test`; the script resolves paths against it
    return runNode([path.join(REPO, file), ...args], { cwd: this.dir, env });
  }

  /** Run the CLI and throw, with its output, unless it exits 0. */
  async must(...args: string[]): Promise<RunResult> {
    const r = await this.run(...args);
    if (r.code !== 0) {
      throw new Error(`pulumi ${args.join(" ")} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
    }
    return r;
  }

  setConfig(key: string, value: string): Promise<RunResult> {
    const full = key.includes(":") ? key : `vm-images:${key}`;
    return this.must("config", "set", "--stack", this.stack, full, value);
  }

  async preview(...extra: string[]): Promise<Preview> {
    const r = await this.must("preview", "--stack", this.stack, "--json", ...extra);
    return JSON.parse(r.stdout) as Preview;
  }

  up(...extra: string[]): Promise<RunResult> {
    return this.must("up", "--stack", this.stack, "--yes", "--skip-preview", ...extra);
  }

  destroy(): Promise<RunResult> {
    return this.must("destroy", "--stack", this.stack, "--yes", "--skip-preview");
  }

  async outputs(): Promise<Record<string, unknown>> {
    const r = await this.must("stack", "output", "--stack", this.stack, "--json", "--show-secrets");
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  /** Remove the stack's state and the project directory. */
  async dispose(): Promise<void> {
    await this.run("stack", "rm", "--stack", this.stack, "--yes", "--force");
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** `op` of each resource whose type ends in `:<type>` (such as "Image"), by resource name. */
export function opsByName(preview: Preview, type: string): Record<string, string> {
  const ops: Record<string, string> = {};
  for (const step of preview.steps) {
    const [, , qualifiedType, name] = step.urn.split("::");
    if (qualifiedType.split("$").pop()!.endsWith(`:${type}`)) ops[name] = step.op;
  }
  return ops;
}
