// A throw-away PostgreSQL cluster for tests, as a shared Pulumi state
// backend: Debian's postgresql server binaries (initdb, pg_ctl) in a temp
// directory, listening on a free 127.0.0.1 port only (and a socket in that
// directory), run as the `postgres` user when we are root (PostgreSQL
// refuses to run as root). Trust authentication: nothing but this machine
// can reach it, and it lives for one test file.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "./ports";

/** The newest installed server's binaries (Debian: /usr/lib/postgresql/<major>/bin). */
function serverBin(): string {
  const root = "/usr/lib/postgresql";
  const majors = fs.existsSync(root) ? fs.readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const major of majors) {
    const bin = path.join(root, major, "bin");
    if (fs.existsSync(path.join(bin, "initdb"))) return bin;
  }
  throw new Error("PostgreSQL server binaries not found: install the Debian package postgresql (npm run setup does)");
}

export class TestPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  /** A Pulumi backend URL for this cluster's `postgres` database. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres?sslmode=disable`;
  }

  private as(cmd: string, args: string[]): string {
    const exe = path.join(this.bin, cmd);
    const [file, argv] = process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", exe, ...args]] : [exe, args];
    return execFileSync(file, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  }

  static async start(): Promise<TestPostgres> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-postgres-"));
    if (process.getuid?.() === 0) execFileSync("chown", ["postgres:postgres", dir]);
    const pg = new TestPostgres(dir, await freePort(), serverBin());
    pg.as("initdb", ["-D", path.join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync"]);
    const options = `-c listen_addresses=127.0.0.1 -p ${pg.port} -k ${dir} -c fsync=off`;
    pg.as("pg_ctl", ["-D", path.join(dir, "data"), "-o", options, "-l", path.join(dir, "server.log"), "-w", "-t", "60", "start"]);
    return pg;
  }

  /** Run one SQL statement; returns psql's unaligned output. */
  query(sql: string): string {
    return this.as("psql", ["-h", this.dir, "-p", String(this.port), "-U", "postgres", "-At", "-c", sql]).trim();
  }

  async dispose(): Promise<void> {
    try {
      this.as("pg_ctl", ["-D", path.join(this.dir, "data"), "-m", "immediate", "-w", "stop"]);
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
