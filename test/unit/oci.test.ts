// lvh-images' layout and references, pure: which entries of a pulled image
// are images, which are refused, and which registries may be used.
import { expect } from "chai";
import { humanTag, imageEntry, parseRef, publishAnnotations, publishedContentDigest, registryRefusal } from "../../provider/model/oci";
import type { EntryType } from "../../provider/model/tar";

const entry = (name: string, type: EntryType = "file", linkname = "") => ({ name, type, linkname });

describe("lvh image layout", () => {
  const images: [string, string][] = [
    ["data/images/base.qcow2.zst", "base.qcow2"],
    ["./data/images/k8s.img.zst", "k8s.img"],
  ];
  for (const [name, image] of images) it(`${name} is the image ${image}`, () => expect(imageEntry(entry(name))).to.equal(image));

  const skipped: [string, EntryType, string?][] = [
    ["data/", "dir"], ["data/images/", "dir"], ["bin/busybox", "file"], ["bin/sh", "symlink", "busybox"], ["etc/passwd", "file"],
  ];
  for (const [name, type, link] of skipped) it(`${name} (${type}) is skipped`, () => expect(imageEntry(entry(name, type, link))).to.equal(undefined));

  const refused: [string, EntryType, string, RegExp][] = [
    ["../escape.zst", "file", "", /escapes/],
    ["data/images/../../x.zst", "file", "", /escapes/],
    ["/abs.zst", "file", "", /absolute/],
    ["data/images/link.qcow2.zst", "symlink", "/etc/passwd", /symlink/],
    ["data/images/hard.qcow2.zst", "hardlink", "etc/shadow", /hardlink/],
    ["data/images/dev.qcow2.zst", "chardev", "", /chardev/],
    ["data/images/fifo.zst", "fifo", "", /fifo/],
    ["data/images", "symlink", "/tmp", /must be a directory/],
    ["data/images/dir/x.zst", "file", "", /nested/],
    ["data/images/.wh.base.qcow2.zst", "file", "", /whiteout/],
    ["data/images/new\nline.zst", "file", "", /not <image>\.zst/],
    ["data/images/base.qcow2", "file", "", /not <image>\.zst/],
    ["usr/x", "symlink", "/data/images/base.qcow2.zst", /link into data\/images/],
  ];
  for (const [name, type, link, says] of refused) {
    it(`refuses ${JSON.stringify(name)} (${type})`, () => expect(() => imageEntry(entry(name, type, link))).to.throw(says));
  }
});

describe("registry references", () => {
  it("parses host, repository, tag and digest", () => {
    expect(parseRef("quay.io/lvh-images/kind:6.6-main")).to.deep.equal({ host: "quay.io", repository: "quay.io/lvh-images/kind", tag: "6.6-main", digest: undefined });
    const d = `sha256:${"a".repeat(64)}`;
    expect(parseRef(`127.0.0.1:5000/team/images@${d}`)).to.include({ host: "127.0.0.1:5000", repository: "127.0.0.1:5000/team/images", digest: d });
  });
  for (const bad of ["kind:6.6", "quay.io/Upper/x", `quay.io/x:${"t".repeat(129)}`, "quay.io/x@sha256:12"]) {
    it(`refuses ${JSON.stringify(bad.slice(0, 40))}`, () => expect(() => parseRef(bad)).to.throw());
  }
  it("allows plain HTTP on loopback, and on private addresses only when asked", () => {
    expect(registryRefusal("127.0.0.1:5000", false)).to.equal(undefined);
    expect(registryRefusal("localhost:5000", false)).to.equal(undefined);
    expect(registryRefusal("quay.io", false)).to.equal(undefined);
    expect(registryRefusal("192.168.1.5:5000", false)).to.match(/insecureRegistry/);
    expect(registryRefusal("192.168.1.5:5000", true)).to.equal(undefined);
  });
  it("makes a valid human tag per image", () => expect(humanTag("main", "base.qcow2")).to.equal("base.qcow2-main"));
});

describe("published annotations", () => {
  const digest = `sha256:${"a".repeat(64)}`;
  const parentDigest = `sha256:${"b".repeat(64)}`;
  const facts = { name: "k8s.qcow2", buildKey: "k".repeat(64), suite: "bookworm", backend: "direct", created: "2026-01-01T00:00:00Z" };

  it("say the image file's content digest and its parent's, beside the build keys", () => {
    const a = publishAnnotations({ ...facts, digest, parentBuildKey: "p".repeat(64), parentDigest });
    expect(a).to.include({
      "io.github.pulumi-vm-images.content-digest": digest,
      "io.github.pulumi-vm-images.parent-build-key": "p".repeat(64),
      "io.github.pulumi-vm-images.parent-content-digest": parentDigest,
    });
    // A root image has no parent; a parent known only by its build key has no content digest to give.
    expect(Object.keys(publishAnnotations({ ...facts, digest, parentBuildKey: "p".repeat(64), parentDigest: `build key ${"p".repeat(64)}` })))
      .not.to.include("io.github.pulumi-vm-images.parent-content-digest");
    expect(Object.keys(publishAnnotations(facts)).filter((k) => k.includes("digest"))).to.deep.equal([]);
  });

  it("give the content digest back from a manifest, and nothing from one without it", () => {
    const manifest = JSON.stringify({ schemaVersion: 2, annotations: publishAnnotations({ ...facts, digest }) });
    expect(publishedContentDigest(manifest)).to.equal(digest);
    expect(publishedContentDigest(JSON.stringify({ schemaVersion: 2, annotations: publishAnnotations(facts) }))).to.equal(undefined);
    expect(publishedContentDigest(JSON.stringify({ annotations: { "io.github.pulumi-vm-images.content-digest": "sha256:short" } }))).to.equal(undefined);
    expect(publishedContentDigest("not json")).to.equal(undefined);
  });
});
