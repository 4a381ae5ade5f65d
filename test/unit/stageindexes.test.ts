// A root's packages stage is reused only while every suite its apt resolved
// from (mmdebstrap's -updates and -security included) serves the same
// package indices: the suites come from the image's sources.list, the
// digests from the InRelease files apt read, and the check asks a real
// HTTP server on 127.0.0.1.
import { expect } from "chai";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { readStageIndexes, staleIndex } from "../../provider/builder/cache/rootstage";
import { debSources, inReleaseListName, packageIndexDigest, stageIndexes } from "../../provider/model/rootstage";

const inRelease = (suite: string, hash: string) => `Origin: Debian
Suite: ${suite}
Date: Sat, 28 Nov 2026 08:00:00 UTC
SHA256:
 ${hash} 1234 main/binary-amd64/Packages.xz
 ${"b".repeat(64)} 99 main/i18n/Translation-en.bz2
`;

// mmdebstrap's sources for bookworm without a mirror.
const SOURCES = `deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://security.debian.org/debian-security bookworm-security main
`;

describe("the suites a packages stage was resolved from", () => {
  it("are the deb lines of sources.list, with options, comments and deb-src left out", () => {
    expect(debSources(`${SOURCES}# deb http://old/debian buster main\ndeb-src http://deb.debian.org/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] https://m.example/debian trixie main contrib # mine\n`)).to.deep.equal([
      { uri: "http://deb.debian.org/debian", suite: "bookworm" },
      { uri: "http://deb.debian.org/debian", suite: "bookworm-updates" },
      { uri: "http://security.debian.org/debian-security", suite: "bookworm-security" },
      { uri: "https://m.example/debian", suite: "trixie" },
    ]);
  });

  it("are found in apt's lists under the names apt gives their InRelease files", () => {
    expect(inReleaseListName("http://deb.debian.org/debian", "bookworm")).to.equal("deb.debian.org_debian_dists_bookworm_InRelease");
    expect(inReleaseListName("http://deb.debian.org/debian/", "bookworm-updates")).to.equal("deb.debian.org_debian_dists_bookworm-updates_InRelease");
    expect(inReleaseListName("http://security.debian.org/debian-security", "bookworm-security"))
      .to.equal("security.debian.org_debian-security_dists_bookworm-security_InRelease");
    expect(inReleaseListName("http://127.0.0.1:45193/debian", "bookworm")).to.equal("127.0.0.1:45193_debian_dists_bookworm_InRelease");
    expect(inReleaseListName("https://ci:pw@m.example/my_debian~x", "bookworm")).to.equal("m.example_my%5fdebian%7ex_dists_bookworm_InRelease");
  });

  it("each get the digest of the InRelease apt read; a suite without one leaves the stage uncheckable", () => {
    const files: Record<string, string> = {
      "deb.debian.org_debian_dists_bookworm_InRelease": inRelease("stable", "1".repeat(64)),
      "deb.debian.org_debian_dists_bookworm-updates_InRelease": inRelease("stable-updates", "2".repeat(64)),
      "security.debian.org_debian-security_dists_bookworm-security_InRelease": inRelease("stable-security", "3".repeat(64)),
    };
    const { indexes } = stageIndexes(SOURCES, (name) => files[name]);
    expect(indexes?.map((i) => [i.suite, i.digest])).to.deep.equal([
      ["bookworm", packageIndexDigest(files["deb.debian.org_debian_dists_bookworm_InRelease"])],
      ["bookworm-updates", packageIndexDigest(files["deb.debian.org_debian_dists_bookworm-updates_InRelease"])],
      ["bookworm-security", packageIndexDigest(files["security.debian.org_debian-security_dists_bookworm-security_InRelease"])],
    ]);
    delete files["security.debian.org_debian-security_dists_bookworm-security_InRelease"];
    expect(stageIndexes(SOURCES, (name) => files[name])).to.deep.equal({
      reason: "no InRelease with package indices for http://security.debian.org/debian-security bookworm-security",
    });
    expect(stageIndexes("# nothing\n", () => undefined).reason).to.match(/names no deb source/);
  });

  it("are read from the directory the stage-sources hook fills", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-stage-sources-"));
    try {
      expect(readStageIndexes(dir).reason).to.match(/no \/etc\/apt\/sources.list/);
      fs.writeFileSync(path.join(dir, "sources.list"), "deb http://deb.debian.org/debian bookworm main\n");
      fs.writeFileSync(path.join(dir, "deb.debian.org_debian_dists_bookworm_InRelease"), inRelease("stable", "1".repeat(64)));
      expect(readStageIndexes(dir).indexes).to.have.length(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a packages stage against the mirror now", () => {
  let server: http.Server;
  let base: string;
  /** What the mirror serves, by path; `auth` is the Authorization header it insists on under /private/. */
  const served: Record<string, string> = {};
  const auth = `Basic ${Buffer.from("ci:s3cret").toString("base64")}`;

  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url!.startsWith("/private/") && req.headers.authorization !== auth) return void res.writeHead(401).end();
      const body = served[req.url!];
      if (body === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": "text/plain" }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((r) => server.close(r)));

  const stage = () => [
    { uri: `${base}/debian`, suite: "bookworm", digest: packageIndexDigest(inRelease("stable", "1".repeat(64)))! },
    { uri: `${base}/debian-security`, suite: "bookworm-security", digest: packageIndexDigest(inRelease("stable-security", "3".repeat(64)))! },
  ];

  it("is current while every suite serves the same package indices, whatever its date", async () => {
    served["/debian/dists/bookworm/InRelease"] = inRelease("stable", "1".repeat(64)).replace("08:00:00", "14:00:00");
    served["/debian-security/dists/bookworm-security/InRelease"] = inRelease("stable-security", "3".repeat(64));
    expect(await staleIndex(stage(), undefined)).to.equal(undefined);
  });

  it("is stale once any suite, the security one included, publishes new packages", async () => {
    served["/debian-security/dists/bookworm-security/InRelease"] = inRelease("stable-security", "4".repeat(64));
    expect(await staleIndex(stage(), undefined)).to.equal(`the package indices of ${base}/debian-security bookworm-security have changed`);
  });

  it("is stale when a suite cannot be read", async () => {
    delete served["/debian-security/dists/bookworm-security/InRelease"];
    expect(await staleIndex(stage(), undefined)).to.match(/bookworm-security\/InRelease: HTTP 404/);
  });

  it("asks the configured mirror with its credentials, and names no password", async () => {
    served["/private/debian/dists/bookworm/InRelease"] = inRelease("stable", "1".repeat(64));
    const own = [{ uri: `${base}/private/debian`, suite: "bookworm", digest: packageIndexDigest(inRelease("stable", "1".repeat(64)))! }];
    expect(await staleIndex(own, `http://ci:s3cret@${base.slice("http://".length)}/private/debian`)).to.equal(undefined);
    const refused = await staleIndex(own, undefined);
    expect(refused).to.match(/HTTP 401/);
    expect(refused).to.not.include("s3cret");
  });
});
