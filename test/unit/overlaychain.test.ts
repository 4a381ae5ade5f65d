// Overlays in the registry, the pure part: the content tag, an overlay's
// annotations, and where a pulled overlay's parent is looked up.
import { expect } from "chai";
import { layerName, parentArtifactRef, parseLayerName } from "../../provider/model/layers";
import { contentTag, manifestAnnotations, publishAnnotations, TAG } from "../../provider/model/oci";

const hex = "ab".repeat(32);
const digest = `sha256:${hex}`;
const repo = "127.0.0.1:5000/team/images";
const layer = layerName("base.qcow2", digest);

describe("overlays in the registry", () => {
  it("find an image by its content digest with a tag that fits the 128 characters", () => {
    expect(contentTag(digest)).to.equal(`content-sha256-${hex}`);
    expect(TAG.test(contentTag(digest))).to.equal(true);
    expect(() => contentTag("sha256:short")).to.throw(/not a content digest/);
  });

  it("name an overlay's layer and its parent's artifact in the annotations, and read them back", () => {
    const parentArtifact = `${repo}@sha256:${"cd".repeat(32)}`;
    const a = publishAnnotations({
      name: "c.qcow2", buildKey: "k".repeat(64), digest: `sha256:${"ef".repeat(32)}`, parentDigest: digest, parentArtifact, backingFile: layer,
      suite: "bookworm", backend: "direct", created: "2026-01-01T00:00:00Z",
    });
    expect(a).to.include({
      "io.github.pulumi-vm-images.parent-artifact": parentArtifact,
      "io.github.pulumi-vm-images.backing-file": layer,
      "io.github.pulumi-vm-images.parent-content-digest": digest,
    });
    expect(manifestAnnotations(JSON.stringify({ annotations: { ...a, odd: 3 } }))).to.deep.equal(a);
    expect(manifestAnnotations("{")).to.deep.equal({});
    expect(manifestAnnotations("null")).to.deep.equal({});
  });

  it("look a parent up by its annotated artifact, in the overlay's own repository", () => {
    const artifact = `${repo}@sha256:${"cd".repeat(32)}`;
    const r = parentArtifactRef(repo, { "io.github.pulumi-vm-images.parent-artifact": artifact }, layer);
    expect(r).to.deep.equal({ ref: artifact, layer: parseLayerName(layer) });
  });

  it("else by the content tag of the digest the layer name holds", () => {
    expect(parentArtifactRef(repo, {}, layer)).to.deep.equal({ ref: `${repo}:content-sha256-${hex}`, layer: { name: "base.qcow2", digest } });
    // Copied to another repository, an overlay finds its parent there, not where it was published first.
    const elsewhere = parentArtifactRef(repo, { "io.github.pulumi-vm-images.parent-artifact": `quay.io/other/images@sha256:${"cd".repeat(32)}` }, layer);
    expect(elsewhere.ref).to.equal(`${repo}:content-sha256-${hex}`);
    expect(elsewhere.ignored).to.match(/in another repository/);
    const tagged = parentArtifactRef(repo, { "io.github.pulumi-vm-images.parent-artifact": `${repo}:latest` }, layer);
    expect(tagged.ignored).to.match(/not pinned by digest/);
    const garbage = parentArtifactRef(repo, { "io.github.pulumi-vm-images.parent-artifact": "no ref" }, layer);
    expect(garbage.ignored).to.match(/no reference/);
  });

  it("refuse a backing file that is no layer of ours, or that the annotation names otherwise", () => {
    for (const backing of ["base.qcow2", "/srv/base.qcow2", `../${layer}`, `.base.qcow2@sha256-${"ab".repeat(31)}`]) {
      expect(() => parentArtifactRef(repo, {}, backing), backing).to.throw(/is not a layer name.*refused/);
    }
    expect(() => parentArtifactRef(repo, { "io.github.pulumi-vm-images.backing-file": layerName("other.qcow2", digest) }, layer))
      .to.throw(/its annotation .*refused/);
  });
});
