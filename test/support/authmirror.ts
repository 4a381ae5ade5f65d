// A Debian mirror that wants a password: an HTTP server on 127.0.0.1 that
// answers 401 without the right Basic credentials and otherwise forwards
// the request to an upstream mirror. It counts what it served with and
// without credentials, so a test can tell that apt used them.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export class AuthMirror {
  authorized = 0;
  refused = 0;

  private constructor(
    private readonly server: http.Server,
    readonly user: string,
    readonly password: string,
  ) {}

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The mirror's URL with its credentials, as a user would configure it. */
  get urlWithCredentials(): string {
    return `http://${this.user}:${this.password}@127.0.0.1:${this.port}/debian`;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/debian`;
  }

  static async start(user: string, password: string, upstream = "http://deb.debian.org"): Promise<AuthMirror> {
    const expected = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    let mirror: AuthMirror | undefined;
    const server = http.createServer((req, res) => {
      if (req.headers.authorization !== expected) {
        mirror!.refused++;
        res.writeHead(401, { "WWW-Authenticate": 'Basic realm="mirror"' }).end();
        return;
      }
      mirror!.authorized++;
      const up = http.request(`${upstream}${req.url}`, { method: req.method, headers: { "user-agent": String(req.headers["user-agent"] ?? "") } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on("error", () => res.writeHead(502).end());
      up.end();
    });
    mirror = new AuthMirror(server, user, password);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return mirror;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
