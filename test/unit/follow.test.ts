// Following the archive against a real HTTP server on 127.0.0.1: an
// image's packages against its sources' indices, each index fetched once
// per process and checked against its InRelease; and the build host asks
// nothing of a source an image lists that is neither the mirror nor an
// allowed host (an image's sources are its own, which its actions may write).
import { expect } from "chai";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import { archiveUpdatesOf } from "../../provider/builder/archive/follow";
import { sourceRefusal } from "../../provider/model/archive";
import type { ImageInputs } from "../../provider/model/check";
import { cycloneDx, type ReadSbom, sbomFileName } from "../../provider/model/sbom";
import { checkImage } from "../../provider/pulumi/imageprovider";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const pkg = (name: string, version: string) => ({ name, version, architecture: "amd64", source: name, sourceVersion: version });

describe("following the archive (a server on 127.0.0.1)", () => {
  let server: http.Server;
  let base: string;
  const asked: string[] = [];
  // Two suites: "good" lists its index as it is, "bad" with another hash.
  const packages = gzipSync(Buffer.from("Package: probe\nVersion: 2.0\nArchitecture: amd64\n\nPackage: dpkg\nVersion: 1.21\nArchitecture: amd64\n"));
  const inRelease = (hash: string) => `Suite: x\nSHA256:\n ${hash} ${packages.length} main/binary-amd64/Packages.gz\n`;
  const files: Record<string, Buffer> = {
    "/debian/dists/good/InRelease": Buffer.from(inRelease(sha(packages))),
    "/debian/dists/good/main/binary-amd64/Packages.gz": packages,
    "/debian/dists/bad/InRelease": Buffer.from(inRelease("0".repeat(64))),
    "/debian/dists/bad/main/binary-amd64/Packages.gz": packages,
  };
  before(async () => {
    server = http.createServer((req, res) => {
      asked.push(`${req.headers.host} ${req.url}`);
      const body = files[req.url ?? ""];
      res.writeHead(body ? 200 : 404).end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian`;
  });
  after(() => server.close());

  const sbom = (suite: string, uri = base): ReadSbom => ({
    image: "x.img", digest: "", packages: [pkg("probe", "1.0"), pkg("dpkg", "1.21")], sources: [{ uri, suite, components: ["main"] }],
  });

  it("names the newer versions, fetching each index once however many images ask", async () => {
    const policy = { mirror: base, allowHosts: [] };
    for (let i = 0; i < 2; i++) {
      expect(await archiveUpdatesOf(sbom("good"), policy)).to.deep.equal([{ name: "probe", architecture: "amd64", from: "1.0", to: "2.0" }]);
    }
    expect(asked.filter((a) => a.endsWith("/good/main/binary-amd64/Packages.gz"))).to.have.length(1);
    expect(asked.filter((a) => a.endsWith("/good/InRelease"))).to.have.length(2);
  });

  it("refuses an index that is not the file its InRelease lists", async () => {
    const err = await archiveUpdatesOf(sbom("bad"), { mirror: base, allowHosts: [] }).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/dists\/bad\/main\/binary-amd64\/Packages\.gz: not the file its InRelease lists/);
  });

  it("asks nothing of a source that is neither the mirror nor an allowed host", async () => {
    const before = asked.length;
    const other = base.replace("127.0.0.1", "localhost");
    const err = await archiveUpdatesOf(sbom("good", other), { mirror: base, allowHosts: [] }).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/^not following http:\/\/localhost:\d+\/debian good: .*add localhost to vm-images:allowHosts/);
    expect(asked.length, "requests made").to.equal(before);
    expect(await archiveUpdatesOf(sbom("good", other), { mirror: base, allowHosts: ["localhost"] })).to.have.length(1);
  });

  it("fails the preview's check of an image that lists such a source, naming the image and the setting", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vmi-follow-"));
    try {
      const doc = cycloneDx({ name: "base.img", digest: `sha256:${"a".repeat(64)}`, tool: { name: "t", version: "1" } },
        [pkg("probe", "1.0")], [{ uri: "http://169.254.169.254/debian", suite: "bookworm", components: ["main"] }]);
      fs.writeFileSync(sbomFileName(path.join(dir, "base.img")), JSON.stringify(doc));
      const news: ImageInputs = {
        dir, name: "base.img", baseDir: dir, suite: "bookworm", backend: "direct", mergeSteps: true, localCopies: true, packages: [], actions: [],
        mirror: base, followArchive: true,
      };
      const r = await checkImage(news, { ...news, backend: "direct", buildKey: "ab".repeat(32) });
      expect(r.failures).to.have.length(1);
      expect(r.failures![0].property).to.equal("followArchive");
      expect(r.failures![0].reason).to.match(/^image "base\.img": followArchive: not following http:\/\/169\.254\.169\.254\/debian bookworm: /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("whom the build host fetches package indices from", () => {
  it("the mirror on its port (else Debian's), allowed hosts by name, address or CIDR, a file:// source only when it is the mirror", () => {
    const none = { allowHosts: [] };
    expect(sourceRefusal("http://deb.debian.org/debian", none)).to.equal(undefined);
    expect(sourceRefusal("https://security.debian.org/debian-security", none)).to.equal(undefined);
    expect(sourceRefusal("http://169.254.169.254/latest", none)).to.match(/add 169\.254\.169\.254 to vm-images:allowHosts/);
    const mirror = { mirror: "http://user:pw@mirror.example:8080/debian", allowHosts: [] };
    expect(sourceRefusal("http://mirror.example:8080/debian", mirror)).to.equal(undefined);
    expect(sourceRefusal("http://mirror.example:9090/debian", mirror)).to.match(/add mirror\.example/);
    expect(sourceRefusal("http://deb.debian.org/debian", mirror)).to.match(/add deb\.debian\.org/);
    const allowed = { allowHosts: ["10.1.0.0/16", "repo.example", "fd00::1"] };
    expect(sourceRefusal("http://10.1.2.3/x", allowed)).to.equal(undefined);
    expect(sourceRefusal("http://10.2.0.1/x", allowed)).to.match(/add 10\.2\.0\.1/);
    expect(sourceRefusal("https://Repo.Example./x", allowed)).to.equal(undefined);
    expect(sourceRefusal("http://[fd00::1]:8000/x", allowed)).to.equal(undefined);
    expect(sourceRefusal("file:///srv/mirror/", { mirror: "file:///srv/mirror", allowHosts: [] })).to.equal(undefined);
    expect(sourceRefusal("file:///etc/", { mirror: "file:///srv/mirror", allowHosts: [] })).to.match(/a file:\/\/ source only when it is the mirror/);
    expect(sourceRefusal("ftp://deb.debian.org/debian", none)).to.match(/ftp: is not http\(s\)/);
  });
});
