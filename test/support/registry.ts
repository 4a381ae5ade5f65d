// A real OCI registry for tests: Debian's docker-registry (distribution 2.8)
// on a free 127.0.0.1 port with a config of its own (never the packaged one,
// which listens on every address), optionally with htpasswd authentication.
// Also the crane the provider runs, and an lvh-images-shaped image made the
// way lvh-images makes them: a layer with data/images/<name>.zst.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { craneBinary } from "../../provider/builder/oci/crane";
import { freePort } from "./ports";

export interface RegistryOptions {
  /** htpasswd authentication with this user and password. */
  auth?: { user: string; password: string };
  /** Log every request (see {@link TestRegistry.requests}). */
  accessLog?: boolean;
}

export class TestRegistry {
  private proc?: ChildProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly opts: RegistryOptions,
  ) {}

  /** host:port */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(opts: RegistryOptions = {}): Promise<TestRegistry> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-registry-"));
    const reg = new TestRegistry(dir, await freePort(), opts);
    const auth = opts.auth
      ? `auth:\n  htpasswd:\n    realm: vm-images-test\n    path: ${path.join(dir, "htpasswd")}\n`
      : "";
    if (opts.auth) {
      const line = execFileSync("htpasswd", ["-Bbn", opts.auth.user, opts.auth.password], { encoding: "utf8" });
      fs.writeFileSync(path.join(dir, "htpasswd"), line.trim() + "\n");
    }
    fs.writeFileSync(
      path.join(dir, "config.yml"),
      `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: ${!opts.accessLog}\n` +
        `storage:\n  filesystem:\n    rootdirectory: ${path.join(dir, "storage")}\n  delete:\n    enabled: true\n` +
        `http:\n  addr: ${reg.host}\n  secret: ${crypto.randomBytes(18).toString("base64")}\n${auth}`,
    );
    await reg.resume();
    return reg;
  }

  /** Start (again, on the same port and storage). */
  async resume(): Promise<void> {
    const log = fs.openSync(path.join(this.dir, "registry.log"), "a");
    this.proc = spawn("/usr/bin/docker-registry", ["serve", path.join(this.dir, "config.yml")], { stdio: ["ignore", log, log] });
    fs.closeSync(log);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) break;
      try {
        const r = await fetch(`http://${this.host}/v2/`);
        if (r.status === 200 || r.status === 401) return;
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`docker-registry did not start:\n${fs.readFileSync(path.join(this.dir, "registry.log"), "utf8")}`);
  }

  /** Stop it (the storage stays). */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    const timer = setTimeout(() => p.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  }

  /** The requests logged so far (with `accessLog`), as "METHOD /path", in order. */
  requests(): string[] {
    const log = fs.readFileSync(path.join(this.dir, "registry.log"), "utf8");
    return [...log.matchAll(/"(GET|HEAD|PUT|POST|PATCH|DELETE) (\/v2\/[^ "]*) HTTP/g)].map((m) => `${m[1]} ${m[2]}`);
  }

  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** A DOCKER_CONFIG directory with this registry's credentials. */
  dockerConfig(): string {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-docker-config-"));
    const { user, password } = this.opts.auth!;
    const auths = { [this.host]: { auth: Buffer.from(`${user}:${password}`).toString("base64") } };
    fs.writeFileSync(path.join(d, "config.json"), JSON.stringify({ auths }));
    return d;
  }
}

/** Run the crane the provider runs; returns stdout. */
export function craneSync(args: string[], env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(craneBinary(), args, { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/**
 * Publish files as lvh-images does (`FROM busybox`, `COPY *.zst /data/images/`),
 * without a daemon: a layer tar with data/images/<name>.zst, a config with a
 * command so `docker create` works. Returns the manifest digest.
 */
export function publishLvhShaped(ref: string, files: string[], env: NodeJS.ProcessEnv = process.env): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-lvh-shaped-"));
  try {
    fs.mkdirSync(path.join(work, "root", "data", "images"), { recursive: true });
    for (const f of files) execFileSync("zstd", ["-q", "-f", "-o", path.join(work, "root", "data", "images", `${path.basename(f)}.zst`), f]);
    return publishLayer(ref, () => execFileSync("tar", ["-C", path.join(work, "root"), "-cf", path.join(work, "layer.tar"), "data"]), path.join(work, "layer.tar"), env);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Push one prepared layer tar as an image with a command; returns the manifest digest. */
export function publishLayer(ref: string, make: () => void, layer: string, env: NodeJS.ProcessEnv = process.env): string {
  make();
  const staged = craneSync(["append", "--oci-empty-base", "-f", layer, "-t", ref], env);
  const final = craneSync(["mutate", staged, "--set-platform", "linux/amd64", "--cmd", "/bin/true", "-t", ref], env);
  return final.slice(final.indexOf("@") + 1);
}
