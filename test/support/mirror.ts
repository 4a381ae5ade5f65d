// A Debian mirror of the test's own: an HTTP server on 127.0.0.1 (or on this
// machine's own address, which a build's sandbox reaches where it cannot
// reach the host's loopback) that forwards each request to an upstream mirror. Two things a test may ask of it:
// - credentials: it answers 401 without the right Basic credentials, and
//   counts what it served with and without, so a test can tell that apt
//   used them;
// - frozen indexes: the first answer for each path under dists/ (Release,
//   InRelease, Packages, Translation, ...) is kept and served again, so
//   builds minutes apart see the archive as it was at the first, even when
//   Debian publishes an update in between. Pool files are immutable anyway.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { aptListsCacheDir, cacheDir } from "../../provider/builder/cache/dirs";

export interface MirrorOptions {
  credentials?: { user: string; password: string };
  freezeIndexes?: boolean;
  upstream?: string;
  /** The address it listens on and its URLs name: 127.0.0.1 unless given. */
  address?: string;
}

interface Kept {
  status: number;
  headers: http.OutgoingHttpHeaders;
  body: Buffer;
}

/** The upstream headers worth passing on from a kept answer (no hop-by-hop ones). */
const KEPT_HEADERS = ["content-type", "last-modified", "etag"];

function send(res: http.ServerResponse, answer: Kept): void {
  res.writeHead(answer.status, { ...answer.headers, "content-length": answer.body.length }).end(answer.body);
}

export class TestMirror {
  authorized = 0;
  refused = 0;
  /** Requests answered from a kept index. */
  replayed = 0;
  private readonly kept = new Map<string, Kept>();

  private constructor(
    private readonly server: http.Server,
    private readonly options: MirrorOptions,
  ) {}

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://${this.address}:${this.port}/debian`;
  }

  get address(): string {
    return this.options.address ?? "127.0.0.1";
  }

  /** The mirror's URL with its credentials, as a user would configure it. */
  get urlWithCredentials(): string {
    const c = this.options.credentials;
    return c ? `http://${c.user}:${c.password}@${this.address}:${this.port}/debian` : this.url;
  }

  static async start(options: MirrorOptions = {}): Promise<TestMirror> {
    const server = http.createServer();
    const mirror = new TestMirror(server, options);
    server.on("request", (req, res) => mirror.serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, mirror.address, resolve));
    return mirror;
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const c = this.options.credentials;
    if (c && req.headers.authorization !== `Basic ${Buffer.from(`${c.user}:${c.password}`).toString("base64")}`) {
      this.refused++;
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="mirror"' }).end();
      return;
    }
    if (c) this.authorized++;
    const url = req.url ?? "/";
    const freeze = this.options.freezeIndexes && req.method === "GET" && url.includes("/dists/");
    const kept = freeze ? this.kept.get(url) : undefined;
    if (kept) {
      this.replayed++;
      send(res, kept);
      return;
    }
    // No conditional headers upstream: a kept answer must be a whole one.
    const headers = { "user-agent": String(req.headers["user-agent"] ?? "") };
    const up = http.request(`${this.options.upstream ?? "http://deb.debian.org"}${url}`, { method: req.method, headers }, (r) => {
      const status = r.statusCode ?? 502;
      if (!freeze || (status !== 200 && status !== 404)) {
        res.writeHead(status, r.headers);
        r.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      r.on("data", (chunk: Buffer) => chunks.push(chunk));
      r.on("error", () => res.destroy());
      r.on("end", () => {
        const answer: Kept = {
          status,
          headers: Object.fromEntries(KEPT_HEADERS.filter((h) => r.headers[h] !== undefined).map((h) => [h, r.headers[h]!])),
          body: Buffer.concat(chunks),
        };
        // A request that raced an earlier one for the same path gets the answer kept first.
        if (!this.kept.has(url)) this.kept.set(url, answer);
        send(res, this.kept.get(url)!);
      });
    });
    up.on("error", () => res.headersSent ? res.destroy() : res.writeHead(502).end());
    up.end();
  }

  /**
   * Stops the server, and drops the package lists of this one-off mirror (a
   * port of this run) from the user's lists cache, where they would stay
   * for good: 50 MB per run.
   */
  async close(): Promise<void> {
    const lists = aptListsCacheDir(cacheDir());
    const prefix = `${this.address}:${this.port}_`;
    for (const f of fs.existsSync(lists) ? fs.readdirSync(lists) : []) {
      if (f.startsWith(prefix) || f.startsWith(`.${prefix}`)) fs.rmSync(path.join(lists, f), { force: true });
    }
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
