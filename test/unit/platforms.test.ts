// Platforms of published images, pure: `--platform` as Docker reads it,
// what a manifest or config says (none is amd64), the entry of an index a
// pull takes, and what a tag shared by two architectures holds after one of
// them is published.
import { expect } from "chai";
import { ociPlatform } from "../../provider/model/arch";
import { ARCH_ANNOTATION, publishAnnotations } from "../../provider/model/oci";
import {
  annotatedPlatform, configPlatform, type Descriptor, INDEX_MEDIA_TYPE, nextTag, parseManifest, parsePlatform, type Platform, platformMismatch,
  platformString, samePlatform, satisfies, selectEntry, tagHolds, type TagState,
} from "../../provider/model/platforms";

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const entry = (c: string, arch: string): Descriptor & { platform: Platform } => ({ mediaType: MANIFEST, digest: digest(c), size: 500, platform: ociPlatform(arch) });
const plain = (c: string, arch: string): TagState => ({ kind: "manifest", descriptor: { mediaType: MANIFEST, digest: digest(c), size: 400 }, platform: ociPlatform(arch) });
const indexOf = (...manifests: Descriptor[]): TagState => ({ kind: "index", digest: digest("f"), manifests });
const bodyOf = (u: ReturnType<typeof nextTag>) => {
  if (u.kind !== "index") throw new Error(`not an index: ${u.kind}`);
  return JSON.parse(u.body) as { schemaVersion: number; mediaType: string; manifests: Descriptor[] };
};

describe("platforms: --platform and matching", () => {
  it("reads os/arch[/variant], an architecture alone (lvh's --qemu-arch), and other tools' names", () => {
    expect(parsePlatform("linux/arm64")).to.deep.equal({ os: "linux", architecture: "arm64" });
    expect(parsePlatform("linux/arm64/v8")).to.deep.equal({ os: "linux", architecture: "arm64", variant: "v8" });
    expect(parsePlatform("arm64")).to.deep.equal({ os: "linux", architecture: "arm64" });
    expect(parsePlatform("linux/x86_64")).to.deep.equal({ os: "linux", architecture: "amd64" });
    expect(parsePlatform("aarch64")).to.deep.equal({ os: "linux", architecture: "arm64" });
    expect(() => parsePlatform("linux//arm64")).to.throw(/not a platform/);
    expect(() => parsePlatform("a/b/c/d")).to.throw(/not a platform/);
    expect(platformString(ociPlatform("arm64"))).to.equal("linux/arm64/v8");
  });

  it("takes linux/arm64 for linux/arm64/v8 and back, a variant compared only when asked", () => {
    expect(satisfies(ociPlatform("arm64"), parsePlatform("linux/arm64"))).to.equal(true);
    expect(satisfies({ os: "linux", architecture: "arm64" }, parsePlatform("linux/arm64/v8"))).to.equal(true);
    expect(satisfies(ociPlatform("armhf"), parsePlatform("linux/arm/v6"))).to.equal(false);
    expect(satisfies(ociPlatform("amd64"), parsePlatform("linux/arm64"))).to.equal(false);
    expect(samePlatform({ os: "linux", architecture: "arm64" }, ociPlatform("arm64"))).to.equal(true);
    expect(samePlatform(ociPlatform("amd64"), ociPlatform("arm64"))).to.equal(false);
  });

  it("reads a config's platform, none being amd64; our annotation's architecture", () => {
    expect(configPlatform(JSON.stringify({ architecture: "arm64", os: "linux", variant: "v8" }))).to.deep.equal(ociPlatform("arm64"));
    expect(configPlatform(JSON.stringify({ architecture: "", os: "" }))).to.deep.equal({ os: "linux", architecture: "amd64" });
    expect(configPlatform(JSON.stringify({ rootfs: {} }))).to.deep.equal({ os: "linux", architecture: "amd64" });
    expect(configPlatform("not json")).to.deep.equal({ os: "linux", architecture: "amd64" });
    const facts = { name: "base.img", buildKey: "k", suite: "bookworm", backend: "direct", created: "2026-01-01T00:00:00Z" };
    expect(publishAnnotations(facts)[ARCH_ANNOTATION]).to.equal("amd64");
    const manifest = JSON.stringify({ schemaVersion: 2, annotations: publishAnnotations({ ...facts, arch: "arm64" }) });
    expect(annotatedPlatform(manifest)).to.deep.equal(ociPlatform("arm64"));
    expect(annotatedPlatform(JSON.stringify({ schemaVersion: 2 }))).to.equal(undefined);
  });

  it("tells an index from a manifest (OCI and Docker spellings)", () => {
    expect(parseManifest(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, layers: [] }))).to.deep.equal({ kind: "manifest", mediaType: MANIFEST });
    const list = { schemaVersion: 2, mediaType: "application/vnd.docker.distribution.manifest.list.v2+json", manifests: [entry("a", "amd64")] };
    expect(parseManifest(JSON.stringify(list))).to.deep.equal({ kind: "index", manifests: [entry("a", "amd64")] });
    expect(parseManifest(JSON.stringify({ schemaVersion: 2, manifests: [] }))).to.deep.equal({ kind: "index", manifests: [] });
  });

  it("takes an index's entry for the platform, else names the reference and what the index lists", () => {
    const manifests = [entry("a", "amd64"), entry("b", "arm64")];
    expect(selectEntry("r.example/x:t", manifests, parsePlatform("linux/arm64")).digest).to.equal(digest("b"));
    expect(selectEntry("r.example/x:t", manifests, parsePlatform("linux/amd64")).digest).to.equal(digest("a"));
    expect(() => selectEntry("r.example/x:t", manifests, parsePlatform("linux/s390x")))
      .to.throw("r.example/x:t: no image for linux/s390x: it lists linux/amd64, linux/arm64/v8");
  });

  it("refuses a plain manifest of another platform, naming the reference, the platform asked and the one found", () => {
    expect(platformMismatch("r.example/x:t", ociPlatform("amd64"), parsePlatform("linux/amd64"))).to.equal(undefined);
    const why = platformMismatch("r.example/x:t", ociPlatform("amd64"), parsePlatform("linux/arm64"));
    expect(why).to.match(/^r\.example\/x:t is an image for linux\/amd64, not linux\/arm64 as asked/);
  });
});

describe("platforms: a tag shared by two architectures", () => {
  it("is the manifest itself while it has one platform", () => {
    expect(nextTag({ kind: "absent" }, entry("a", "amd64"))).to.deep.equal({ kind: "manifest" });
    // The same platform published again: the plain manifest replaced, as a tag always was.
    expect(nextTag(plain("0", "amd64"), entry("a", "amd64"))).to.deep.equal({ kind: "manifest" });
    expect(nextTag(plain("a", "amd64"), entry("a", "amd64"))).to.deep.equal({ kind: "unchanged" });
  });

  it("becomes an index of both when the other architecture is published under it", () => {
    const body = bodyOf(nextTag(plain("a", "amd64"), entry("b", "arm64")));
    expect(body.mediaType).to.equal(INDEX_MEDIA_TYPE);
    expect(body.schemaVersion).to.equal(2);
    expect(body.manifests).to.deep.equal([
      { mediaType: MANIFEST, digest: digest("a"), size: 400, platform: { architecture: "amd64", os: "linux" } },
      { mediaType: MANIFEST, digest: digest("b"), size: 500, platform: { architecture: "arm64", os: "linux", variant: "v8" } },
    ]);
  });

  it("replaces only the entry of the same platform, in its place, and keeps others' entries whole", () => {
    const foreign = { mediaType: MANIFEST, digest: digest("c"), size: 9, platform: { os: "linux", architecture: "s390x" }, annotations: { x: "y" }, urls: ["u"] };
    const state = indexOf(entry("a", "amd64"), { ...entry("b", "arm64"), platform: { os: "linux", architecture: "arm64" } }, foreign as Descriptor);
    const body = bodyOf(nextTag(state, entry("d", "arm64")));
    expect(body.manifests.map((d) => d.digest)).to.deep.equal([digest("a"), digest("d"), digest("c")]);
    expect(body.manifests[2]).to.deep.equal(foreign);
    const amd = bodyOf(nextTag(state, entry("e", "amd64")));
    expect(amd.manifests.map((d) => d.digest)).to.deep.equal([digest("e"), digest("b"), digest("c")]);
    // A new platform goes last.
    expect(bodyOf(nextTag(indexOf(entry("a", "amd64")), entry("f", "riscv64"))).manifests.map((d) => d.digest)).to.deep.equal([digest("a"), digest("f")]);
  });

  it("stays an index when it held only the same platform; an entry without a platform is kept", () => {
    expect(bodyOf(nextTag(indexOf(entry("a", "amd64")), entry("b", "amd64"))).manifests.map((d) => d.digest)).to.deep.equal([digest("b")]);
    const bare = { mediaType: MANIFEST, digest: digest("9"), size: 1 };
    expect(bodyOf(nextTag(indexOf(bare), entry("b", "amd64"))).manifests).to.deep.equal([bare, entry("b", "amd64")]);
  });

  it("is unchanged when the index has the entry already; the same entries give the same bytes", () => {
    const state = indexOf(entry("a", "amd64"), entry("b", "arm64"));
    expect(nextTag(state, entry("b", "arm64"))).to.deep.equal({ kind: "unchanged" });
    expect(tagHolds(state, entry("a", "amd64"))).to.equal(true);
    expect(tagHolds(state, entry("c", "amd64"))).to.equal(false);
    expect(tagHolds({ kind: "absent" }, entry("a", "amd64"))).to.equal(false);
    const once = nextTag(plain("a", "amd64"), entry("b", "arm64"));
    expect(nextTag(plain("a", "amd64"), entry("b", "arm64"))).to.deep.equal(once);
  });

  it("after a concurrent write that dropped this entry, puts it back beside the other's", () => {
    // Another publish wrote its arm64 manifest over this one's amd64 tag: the retry makes the index of both.
    const after = plain("b", "arm64");
    expect(tagHolds(after, entry("a", "amd64"))).to.equal(false);
    expect(bodyOf(nextTag(after, entry("a", "amd64"))).manifests.map((d) => d.digest)).to.deep.equal([digest("b"), digest("a")]);
  });
});
