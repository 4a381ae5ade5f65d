// What an image records of its packages: dpkg's status file read as
// dpkg-query lists it, Debian's version order, apt's sources in both
// styles, the CycloneDX document and reading it back, and which installed
// packages a newer archive would upgrade.
import { expect } from "chai";
import { archiveUpdates, describeUpdates, indexVersions, packagesIndexFiles, releaseFiles } from "../../provider/model/archive";
import { aptSources, deb822Sources, oneLineSources, sourceUri } from "../../provider/model/aptsources";
import { compareDebVersions } from "../../provider/model/debversion";
import { guestReportFiles, installedPackages, packageDelta, packagesSummary } from "../../provider/model/dpkgstatus";
import { cycloneDx, debPurl, readSbom } from "../../provider/model/sbom";
import { cycloneDxProblems } from "../support/cyclonedx";

const STATUS = `Package: libssl3
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.15-1~deb12u1
Description: Secure Sockets Layer toolkit
 This package is part of the OpenSSL project.
 .
 More text.

Package: bash
Essential: yes
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b7
Source: bash (5.2.15-2)

Package: old-conf
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: tzdata
Status: install ok installed
Architecture: all
Version: 2024a-0+deb12u1
`;

describe("installed packages", () => {
  it("reads the installed stanzas of dpkg's status file, with source packages and their versions", () => {
    expect(installedPackages(STATUS)).to.deep.equal([
      { name: "bash", version: "5.2.15-2+b7", architecture: "amd64", source: "bash", sourceVersion: "5.2.15-2" },
      { name: "libssl3", version: "3.0.15-1~deb12u1", architecture: "amd64", source: "openssl", sourceVersion: "3.0.15-1~deb12u1" },
      { name: "tzdata", version: "2024a-0+deb12u1", architecture: "all", source: "tzdata", sourceVersion: "2024a-0+deb12u1" },
    ]);
  });

  it("reads the guest's report back, blank lines and lines that look like its headers kept", () => {
    const report = ["no sshd", "@@vm-images file /var/lib/dpkg/status", ...STATUS.split("\n").map((l) => `|${l}`),
      "@@vm-images file /etc/apt/sources.list.d/x.sources", "|Types: deb", "|", "|@@vm-images file /etc/passwd"].join("\n");
    const files = guestReportFiles(report);
    expect(files.map((f) => f.path)).to.deep.equal(["/var/lib/dpkg/status", "/etc/apt/sources.list.d/x.sources"]);
    expect(installedPackages(files[0].text).map((p) => p.name)).to.deep.equal(["bash", "libssl3", "tzdata"]);
    expect(files[1].text).to.equal("Types: deb\n\n@@vm-images file /etc/passwd\n");
  });

  it("summarises a set by count and a digest that order does not change and a version does", () => {
    const pkgs = installedPackages(STATUS);
    const a = packagesSummary(pkgs);
    expect(a.count).to.equal(3);
    expect(a.digest).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(packagesSummary([...pkgs].reverse())).to.deep.equal(a);
    expect(packagesSummary([{ ...pkgs[0], version: "5.2.15-2+b8" }, ...pkgs.slice(1)]).digest).to.not.equal(a.digest);
  });

  it("tells a child's packages from its parent's: added, removed, changed", () => {
    const parent = installedPackages(STATUS);
    const child = [...parent.slice(1), { name: "jq", version: "1.6-2.1", architecture: "amd64", source: "jq", sourceVersion: "1.6-2.1" }];
    child[0] = { ...child[0], version: "3.0.17-1~deb12u2" };
    const d = packageDelta(parent, child);
    expect(d.added.map((p) => p.name)).to.deep.equal(["jq"]);
    expect(d.removed.map((p) => p.name)).to.deep.equal(["bash"]);
    expect(d.changed.map((c) => [c.from.version, c.to.version])).to.deep.equal([["3.0.15-1~deb12u1", "3.0.17-1~deb12u2"]]);
  });
});

describe("Debian version order", () => {
  const ordered = ["1.0~rc1", "1.0", "1.0-1", "1.0-1+b1", "1.0a", "1.0+dfsg", "1.00.1", "1.2", "1.10", "1:0.1"];
  it("sorts as dpkg does: tilde first, letters before other characters, numbers by value, epochs over all", () => {
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(compareDebVersions(ordered[i], ordered[i + 1]), `${ordered[i]} < ${ordered[i + 1]}`).to.be.below(0);
      expect(compareDebVersions(ordered[i + 1], ordered[i])).to.be.above(0);
    }
    expect(compareDebVersions("3.0.15-1~deb12u1", "3.0.17-1~deb12u2")).to.be.below(0);
    expect(compareDebVersions("3.0.15-1~deb12u1", "3.0.15-1")).to.be.below(0);
    expect(compareDebVersions("1.01", "1.1")).to.equal(0);
    expect(compareDebVersions("0:1.0", "1.0")).to.equal(0);
  });
});

describe("apt sources", () => {
  it("reads one-line and deb822 files, leaves deb-src and disabled entries out, and lists a source once", () => {
    const list = "deb [signed-by=/k.gpg arch=amd64] http://h/debian bookworm main contrib # c\ndeb-src http://h/debian bookworm main\n#deb http://x y z\n";
    expect(oneLineSources(list)).to.deep.equal([{ uri: "http://h/debian", suite: "bookworm", components: ["main", "contrib"], architectures: ["amd64"] }]);
    const d822 = "Types: deb deb-src\nURIs: http://a/debian http://b/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://c/\nSuites: x\nComponents: main\nEnabled: no\n";
    expect(deb822Sources(d822).map((s) => `${s.uri} ${s.suite}`)).to.deep.equal(["http://a/debian bookworm", "http://a/debian bookworm-updates", "http://b/debian bookworm", "http://b/debian bookworm-updates"]);
    const all = aptSources([{ path: "/etc/apt/sources.list", text: "deb http://a/debian bookworm main\n" }, { path: "/etc/apt/sources.list.d/a.sources", text: d822 }, { path: "/etc/apt/sources.list.d/x.save", text: list }]);
    expect(all).to.have.length(4);
    expect(sourceUri("https://user:pw@mirror.example/debian")).to.equal("https://mirror.example/debian");
  });
});

describe("the SBOM", () => {
  const image = { name: "base.img", digest: `sha256:${"a".repeat(64)}`, tool: { name: "pulumi-vm-images", version: "0.1.0" } };
  const pkgs = installedPackages(STATUS);
  const sources = [{ uri: "http://h/debian", suite: "bookworm", components: ["main"] }];

  it("names each package by its package URL, the version's epoch colon kept and other characters encoded", () => {
    expect(debPurl({ name: "bash", version: "5.2.15-2+b7", architecture: "amd64" })).to.equal("pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64");
    expect(debPurl({ name: "libc6", version: "1:2.36~x", architecture: "amd64" })).to.equal("pkg:deb/debian/libc6@1:2.36~x?arch=amd64");
  });

  it("is the same document for the same image, and reads back to what it was made of", () => {
    const doc = cycloneDx(image, pkgs, sources) as { serialNumber: string };
    expect(JSON.stringify(cycloneDx(image, pkgs, sources))).to.equal(JSON.stringify(doc));
    expect(doc.serialNumber).to.match(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const back = readSbom(JSON.stringify(doc));
    expect(back).to.deep.equal({ image: "base.img", digest: image.digest, packages: pkgs, sources });
    expect((cycloneDx({ ...image, digest: `sha256:${"b".repeat(64)}` }, pkgs, sources) as { serialNumber: string }).serialNumber).to.not.equal(doc.serialNumber);
  });

  it("refuses a document that is not one", () => {
    expect(() => readSbom("{}")).to.throw(/not a CycloneDX document/);
  });
});

describe("following the archive", () => {
  const release = `Suite: bookworm
SHA256:
 ${"1".repeat(64)} 100 main/binary-amd64/Packages
 ${"2".repeat(64)} 40 main/binary-amd64/Packages.gz
 ${"3".repeat(64)} 30 main/binary-amd64/Packages.xz
 ${"4".repeat(64)} 30 contrib/binary-amd64/Packages.xz
 ${"5".repeat(64)} 10 main/binary-arm64/Packages.gz
`;
  it("picks each component's Packages index in the best compression the Release lists", () => {
    const files = packagesIndexFiles(releaseFiles(release), { uri: "http://h/debian", suite: "bookworm", components: ["main", "contrib", "non-free"] }, "amd64");
    expect(files.map((f) => [f.path, f.compression, f.size])).to.deep.equal([["main/binary-amd64/Packages.gz", "gz", 40], ["contrib/binary-amd64/Packages.xz", "xz", 30]]);
    expect(packagesIndexFiles(releaseFiles(release), { uri: "u", suite: "s", components: ["main"], architectures: ["arm64"] }, "amd64")).to.deep.equal([]);
  });

  it("names the installed packages the indices have a newer version of, as apt would upgrade them", () => {
    const versions = indexVersions([
      "Package: libssl3\nVersion: 3.0.15-1~deb12u1\nArchitecture: amd64\n\nPackage: libssl3\nVersion: 3.0.17-1~deb12u2\nArchitecture: amd64\n",
      "Package: bash\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n\nPackage: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n\nPackage: libssl3\nVersion: 9\nArchitecture: i386\n",
    ]);
    const updates = archiveUpdates(installedPackages(STATUS), versions);
    expect(updates).to.deep.equal([{ name: "libssl3", architecture: "amd64", from: "3.0.15-1~deb12u1", to: "3.0.17-1~deb12u2" }]);
    expect(describeUpdates(updates)).to.equal("libssl3 3.0.15-1~deb12u1 -> 3.0.17-1~deb12u2");
    const many = Array.from({ length: 7 }, (_, i) => ({ name: `p${i}`, architecture: "all", from: "1", to: "2" }));
    expect(describeUpdates(many)).to.equal("p0 1 -> 2, p1 1 -> 2, p2 1 -> 2, p3 1 -> 2, p4 1 -> 2, and 2 more");
  });
});

describe("the SBOM against CycloneDX 1.5's published schema", () => {
  it("is valid, and a document that breaks the schema is not (the check can fail)", () => {
    const doc = cycloneDx({ name: "base.img", digest: `sha256:${"a".repeat(64)}`, parent: "p.img", parentDigest: `sha256:${"b".repeat(64)}`, tool: { name: "t", version: "1" } },
      installedPackages(STATUS), [{ uri: "http://h/debian", suite: "bookworm", components: ["main"] }]) as Record<string, unknown>;
    expect(cycloneDxProblems(doc)).to.deep.equal([]);
    expect(cycloneDxProblems({ ...doc, specVersion: 15 }).join("\n")).to.match(/specVersion/);
    expect(cycloneDxProblems({ ...doc, components: [{ name: "x" }] }).join("\n")).to.match(/type/);
  });
});
