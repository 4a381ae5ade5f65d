// A signed apt repository of the test's own, served over HTTP: tiny
// Architecture: all packages built with dpkg-deb, indexed with
// apt-ftparchive, and a Release file signed (InRelease and Release.gpg) with
// a throw-away ed25519 key whose public half apt is given with signed-by=.
// A test moves a package's version and the repository is re-indexed and
// re-signed, as Debian's archive would be by a point release.
//
// It listens on 127.0.0.1 unless given another address: a build's sandbox
// does not reach the host's loopback, so a test whose images use the
// repository gives hostAddress().
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as zlib from "node:zlib";

const run = promisify(execFile);

export interface AptPackage {
  name: string;
  version: string;
  /** The Depends field, as written in a control file. */
  depends?: string;
}

export interface AptRepoOptions {
  /** The address it listens on and its URL names: 127.0.0.1 unless given. */
  address?: string;
  /** The suite and codename: vmimages-test unless given. */
  suite?: string;
  packages: AptPackage[];
}

const COMPONENT = "main";
const ARCHITECTURE = "amd64";
const NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const VERSION = /^([0-9]+:)?[0-9][A-Za-z0-9.+~-]*$/;

export class AptRepo {
  /** The directory served at url. */
  readonly root: string;
  /** The repository's public key, binary, for apt's signed-by=. */
  readonly keyFile: string;
  private readonly gnupg: string;
  private readonly packages = new Map<string, AptPackage>();

  private constructor(
    private readonly dir: string,
    readonly suite: string,
    readonly address: string,
    private readonly server: http.Server,
  ) {
    this.root = path.join(dir, "repo");
    this.keyFile = path.join(dir, "repository-key.gpg");
    this.gnupg = path.join(dir, "gnupg");
  }

  static async create(options: AptRepoOptions): Promise<AptRepo> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-aptrepo-"));
    const repo = new AptRepo(dir, options.suite ?? "vmimages-test", options.address ?? "127.0.0.1", http.createServer());
    try {
      await repo.start(options.packages);
    } catch (e) {
      await repo.close();
      throw e;
    }
    return repo;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://${this.address}:${this.port}/`;
  }

  /** A one-line sources.list entry for this repository, its key at keyPath (this machine's keyFile unless given). */
  sourcesLine(keyPath: string = this.keyFile): string {
    return `deb [signed-by=${keyPath}] ${this.url} ${this.suite} ${COMPONENT}`;
  }

  /** The packages the index lists, each at its one version. */
  get contents(): AptPackage[] {
    return [...this.packages.values()].map((p) => ({ ...p }));
  }

  /** Rebuilds a package at another version; the index then lists that version only. */
  async setVersion(name: string, version: string): Promise<void> {
    const pkg = this.packages.get(name);
    if (!pkg) throw new Error(`the repository has no package ${name}`);
    await this.put([{ ...pkg, version }]);
  }

  /** Adds packages, or replaces those of the same names. */
  async add(...packages: AptPackage[]): Promise<void> {
    await this.put(packages);
  }

  /** Stops the server, ends the key's gpg-agent, and removes every file. */
  async close(): Promise<void> {
    if (this.server.listening) {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
    if (fs.existsSync(this.gnupg)) await run("gpgconf", ["--kill", "all"], { env: this.gpgEnv() }).catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async start(packages: AptPackage[]): Promise<void> {
    fs.mkdirSync(this.gnupg, { mode: 0o700 });
    await this.gpg(["--quick-gen-key", `vm-images test repository <${this.suite}@example.invalid>`, "ed25519", "sign", "never"]);
    fs.writeFileSync(this.keyFile, (await this.gpg(["--export"], "buffer")) as Buffer);
    fs.mkdirSync(path.join(this.root, "pool", COMPONENT), { recursive: true });
    await this.put(packages);
    this.server.on("request", (req, res) => this.serve(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, this.address, resolve);
    });
  }

  private async put(packages: AptPackage[]): Promise<void> {
    for (const p of packages) {
      if (!NAME.test(p.name)) throw new Error(`not a Debian package name: ${JSON.stringify(p.name)}`);
      if (!VERSION.test(p.version)) throw new Error(`not a Debian version: ${JSON.stringify(p.version)}`);
    }
    for (const p of packages) {
      await this.build(p);
      this.packages.set(p.name, { ...p });
    }
    await this.index();
  }

  /** The package's .deb in the pool, in place of any other version of it. */
  private async build(p: AptPackage): Promise<void> {
    const pool = path.join(this.root, "pool", COMPONENT);
    for (const f of fs.readdirSync(pool)) if (f.startsWith(`${p.name}_`)) fs.rmSync(path.join(pool, f));
    const tree = path.join(this.dir, "build", p.name);
    fs.rmSync(tree, { recursive: true, force: true });
    fs.mkdirSync(path.join(tree, "DEBIAN"), { recursive: true });
    fs.mkdirSync(path.join(tree, "usr", "share", p.name), { recursive: true });
    fs.writeFileSync(path.join(tree, "usr", "share", p.name, "version"), `${p.version}\n`);
    fs.writeFileSync(path.join(tree, "DEBIAN", "control"), [
      `Package: ${p.name}`, `Version: ${p.version}`, "Architecture: all", "Maintainer: vm-images tests <tests@example.invalid>",
      ...(p.depends ? [`Depends: ${p.depends}`] : []), "Section: misc", "Priority: optional",
      `Description: ${p.name} at version ${p.version}, for tests`, "",
    ].join("\n"));
    const deb = path.join(pool, `${p.name}_${p.version.replace(/^[0-9]+:/, "")}_all.deb`);
    await run("dpkg-deb", ["--root-owner-group", "--build", tree, deb]);
  }

  /** Packages (plain and gzip), then Release, signed. */
  private async index(): Promise<void> {
    const dists = path.join(this.root, "dists", this.suite);
    const binary = path.join(dists, COMPONENT, `binary-${ARCHITECTURE}`);
    fs.mkdirSync(binary, { recursive: true });
    for (const f of ["Release", "InRelease", "Release.gpg"]) fs.rmSync(path.join(dists, f), { force: true });
    const { stdout: packages } = await run("apt-ftparchive", ["packages", path.join("pool", COMPONENT)], { cwd: this.root, maxBuffer: 1 << 26 });
    fs.writeFileSync(path.join(binary, "Packages"), packages);
    fs.writeFileSync(path.join(binary, "Packages.gz"), zlib.gzipSync(packages));
    const field = (name: string, value: string) => ["-o", `APT::FTPArchive::Release::${name}=${value}`];
    const { stdout: release } = await run("apt-ftparchive", [
      ...field("Origin", "vm-images-test"), ...field("Label", "vm-images-test"), ...field("Suite", this.suite),
      ...field("Codename", this.suite), ...field("Architectures", ARCHITECTURE), ...field("Components", COMPONENT),
      ...field("Description", "packages of the vm-images tests"), "release", ".",
    ], { cwd: dists, maxBuffer: 1 << 26 });
    fs.writeFileSync(path.join(dists, "Release"), release);
    await this.gpg(["--clearsign", "--output", path.join(dists, "InRelease"), path.join(dists, "Release")]);
    await this.gpg(["--armor", "--detach-sign", "--output", path.join(dists, "Release.gpg"), path.join(dists, "Release")]);
  }

  private gpgEnv(): NodeJS.ProcessEnv {
    return { ...process.env, GNUPGHOME: this.gnupg };
  }

  private async gpg(args: string[], encoding: "utf8" | "buffer" = "utf8"): Promise<string | Buffer> {
    const common = ["--batch", "--quiet", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""];
    const { stdout } = await run("gpg", [...common, ...args], { env: this.gpgEnv(), encoding });
    return stdout;
  }

  /** GET and HEAD of the files under root; 404 for anything else. */
  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    let rel: string;
    try {
      rel = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      rel = "\0";
    }
    const file = path.join(this.root, rel);
    const inside = file.startsWith(this.root + path.sep) && !rel.includes("\0");
    const stat = inside && (req.method === "GET" || req.method === "HEAD") ? fs.statSync(file, { throwIfNoEntry: false }) : undefined;
    if (!stat?.isFile()) {
      res.writeHead(404, { "content-length": 0 }).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": stat.size });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    const stream = fs.createReadStream(file);
    stream.on("error", () => res.destroy());
    stream.pipe(res);
  }
}
