// The bench's pure logic: who is sampled and in which order, what a cold
// sample may not reuse, the medians and ratios of a results file, and its
// Markdown. The results here are fixtures made in the test (round figures,
// no measurement), never a run's.
import { expect } from "chai";
import { BOOTSTRAP_STEP, coldReuse, lvhMissing } from "../../bench/coldcheck";
import { plannedBuilders, roundOrder } from "../../bench/plan";
import { renderFull, renderSummary } from "../../bench/render";
import { latest, parseResults, resultsBaseName } from "../../bench/results";
import { debUrls, listBaseUrl, poolName } from "../../bench/debs";
import { goBuildVersion } from "../../bench/machine";
import { archRatios, floorRows, rows } from "../../bench/summary";
import { built, fixture } from "../support/benchfixture";

describe("bench: plan", () => {
  it("rotates the order each round, every builder once per round", () => {
    expect([0, 1, 2, 3].map((r) => roundOrder(["lvh", "guestfs", "direct"], r))).to.deep.equal([
      ["lvh", "guestfs", "direct"], ["guestfs", "direct", "lvh"], ["direct", "lvh", "guestfs"], ["lvh", "guestfs", "direct"]]);
  });
  it("samples each libguestfs builder under KVM and TCG where KVM works, under TCG alone where not, and marks a missing lvh absent", () => {
    expect(plannedBuilders(["lvh", "guestfs", "direct"], "/x/lvh", "kvm", false).map((b) => `${b.id}:${b.accel}`))
      .to.deep.equal(["lvh (kvm):kvm", "lvh (tcg):tcg", "guestfs (kvm):kvm", "guestfs (tcg):tcg", "direct:none"]);
    expect(plannedBuilders(["lvh", "guestfs"], "/x/lvh", "tcg", false).map((b) => b.id)).to.deep.equal(["lvh (tcg)", "guestfs (tcg)"]);
    const noLvh = plannedBuilders(["lvh", "direct"], undefined, "tcg", false);
    expect(noLvh[0]).to.include({ id: "lvh", tool: "lvh" }).and.have.property("absent");
  });
  it("adds the direct backend building arm64 on the seed forest when asked", () => {
    const b = plannedBuilders(["direct"], undefined, "tcg", false, undefined, true);
    expect(b.map((x) => x.id)).to.deep.equal(["direct", "direct (arm64)"]);
    expect(b[1]).to.deep.include({ arch: "arm64", forests: ["seed"] });
  });
});

describe("bench: a cold sample reuses nothing", () => {
  const forest = [{ name: "base.img" }, { name: "k8s.qcow2", parent: "base.img" }];
  it("passes when every image was built, each root through mmdebstrap", () => {
    expect(coldReuse(forest, { "base.img": built(20, true), "k8s.qcow2": built(8, false) })).to.deep.equal([]);
  });
  it("names the image cache, a registry, a cached packages stage and a missing image", () => {
    const stage = { ...built(3, true), steps: { "look up packages stage (cache)": 1, "run actions (sandbox)": 2 } };
    expect(coldReuse(forest, { "base.img": stage, "k8s.qcow2": { ...built(1, false), source: "image cache" } }).join("\n"))
      .to.match(/base\.img: no mmdebstrap step/).and.match(/k8s\.qcow2: source "image cache"/);
    expect(coldReuse(forest, { "base.img": { ...built(1, true), source: "pulled r@sha256:00" } })).to.have.length(2);
  });
  it("checks that lvh wrote every image during its build", () => {
    expect(lvhMissing(forest, { "base.img": 2000, "k8s.qcow2": 2500 }, 1000)).to.deep.equal([]);
    expect(lvhMissing(forest, { "base.img": 500 }, 1000)).to.have.length(2);
  });
});

describe("bench: results", () => {
  it("computes medians without the boot check and lvh's median over each", () => {
    const r = fixture();
    const empty = rows(r, r.forests[0], "empty");
    expect(empty.map((x) => [x.builder.id, x.median])).to.deep.equal([["lvh (tcg)", 110], ["direct", 11]]);
    expect(empty[1].ratios["lvh (tcg)"]).to.equal(10);
    expect(empty[0].ratios).to.deep.equal({});
    const warm = rows(r, r.forests[0], "warm");
    expect(warm.map((x) => x.builder.id)).to.deep.equal(["direct"]);
    expect(warm[0].ratios["lvh (tcg)"]).to.equal(110 / 9);
  });
  it("gives an arm64 builder no ratio against lvh, and its median against the host's direct one", () => {
    const r = fixture();
    r.builders.push({ id: "direct (arm64)", tool: "direct", accel: "none", arch: "arm64", forests: ["seed"] });
    r.forests[0].samples.push(...[40, 44, 36].map((seconds, round) => ({ builder: "direct (arm64)", condition: "empty" as const, round, position: 2, seconds, flushSeconds: 1, peakKiB: 1, bootCheckSeconds: 0, images: {} })));
    const arm = rows(r, r.forests[0], "empty").find((x) => x.builder.id === "direct (arm64)")!;
    expect(arm.median).to.equal(40);
    expect(arm.ratios).to.deep.equal({});
    expect(archRatios(r, r.forests[0])).to.deep.equal([{ forest: "seed", builder: "direct (arm64)", median: 40, hostMedian: 11, ratio: 40 / 11 }]);
    expect(renderSummary(r, "f.json")).to.include("- seed: direct (arm64) 40.0 s against direct (amd64) 11.0 s: 3.6x as long (medians, empty package caches; target: at most 4x)");
    expect(rows(r, r.forests[0], "warm").map((x) => x.builder.id)).to.deep.equal(["direct"]);
  });
  it("keeps an absent lvh as a row without times or ratio", () => {
    const r = fixture(true);
    const empty = rows(r, r.forests[0], "empty");
    expect(empty[0]).to.include({ median: undefined }).and.have.property("times").that.is.empty;
    expect(empty[1].ratios).to.deep.equal({});
  });
  it("names its file by date and short commit, parses its format and picks the latest by finishing time", () => {
    const r = fixture();
    expect(resultsBaseName(r)).to.equal("2030-01-02-0123456789ab");
    expect(() => parseResults(JSON.stringify({ ...r, format: "other" }))).to.throw(/format/);
    expect(parseResults(JSON.stringify(r))).to.deep.equal(r);
    const later = { ...r, finished: "2030-01-03T00:00:00.000Z" };
    expect(latest([{ name: "b", results: later }, { name: "a", results: r }])?.name).to.equal("b");
    expect(latest([])).to.equal(undefined);
  });
});

describe("bench: rendering", () => {
  it("puts the like-for-like table first, then the warm one, then the edits with the whole up first", () => {
    const text = renderSummary(fixture(), "f.json");
    const [empty, warm, edits] = ["empty package caches (like for like)", "our package caches warm", "edits with direct"].map((t) => text.indexOf(t));
    expect(empty).to.be.greaterThan(-1);
    expect(warm).to.be.greaterThan(empty);
    expect(edits).to.be.greaterThan(warm);
    expect(text).to.include("| builder | acceleration | samples (s) | median | lvh (tcg) / builder |");
    expect(text).to.include("| direct | none | 12.0, 10.0, 11.0 | 11.0 s | 10.0 |");
    expect(text).to.include("| lvh (tcg) | tcg | 100.0, 120.0, 110.0 | 110.0 s | - |");
    expect(text).to.include("| run | whole `up` | peak memory | base.img | k8s.qcow2 |");
    expect(text).to.include("| no-op | 2.0 s | 4 MiB | unchanged | unchanged |");
    expect(text).to.include("| root action-only | 5.0 s | 1 MiB | 2.0 s built, 10.0% of its cold 20.0 s | 4.0 s built, 50.0% of its cold 8.0 s |");
    expect(text).to.match(/no KVM row/).and.include("2 cores (a cpu), 8 GiB, kernel 6.1.0-test").and.include("/dev/vda1 (ext4, non-rotational as the kernel reports it)");
  });
  it("says lvh was absent and gives no ratio column", () => {
    const text = renderSummary(fixture(true), "f.json");
    expect(text).to.include("| lvh | - | absent: not found | - |");
    expect(text).to.not.include("/ builder");
  });
  it("renders every sample in the full file", () => {
    const text = renderFull(fixture(), "f.json");
    expect(text.match(/^\| seed \| \d \| \d \| /gm)).to.have.length(9);
    expect(text).to.include("| seed | 1 | 1 | direct | empty | 13.0 s | 1.0 s | 1.0 s | 12.0 s | 2 MiB |");
  });
});

describe("bench: the floor", () => {
  it("finds each cached .deb's URL in the package lists, an epoch dropped as the pool spells it", () => {
    expect(listBaseUrl("deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages")).to.equal("http://deb.debian.org/debian");
    expect(listBaseUrl("deb.debian.org_debian_dists_bookworm_InRelease")).to.equal(undefined);
    expect(poolName("bsdutils_1%3a2.38.1-5+deb12u3_amd64.deb")).to.equal("bsdutils_2.38.1-5+deb12u3_amd64.deb");
    const lists = [
      { file: "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages", text: "Package: a\nFilename: pool/main/a/a/a_1.0_all.deb\n\nPackage: b\nFilename: pool/main/b/b/b_2_amd64.deb\n" },
      { file: "security.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages", text: "Package: c\nFilename: pool/updates/main/c/c/c_3_amd64.deb\n" },
    ];
    expect([...debUrls(["a_1.0_all.deb", "c_1%3a3_amd64.deb"], lists).values()]).to.deep.equal([
      "http://deb.debian.org/debian/pool/main/a/a/a_1.0_all.deb", "http://security.debian.org/debian-security/pool/updates/main/c/c/c_3_amd64.deb"]);
    expect(() => debUrls(["z_9_amd64.deb"], lists)).to.throw(/no package list names 1/);
  });
  it("puts each root's own build with empty caches, without the boot check, against download plus unpack", () => {
    const r = fixture();
    r.forests[0].floors = [{ image: "base.img", debs: 100, bytes: 2 ** 20 * 50, downloadSeconds: 3, unpackSeconds: 2 }];
    for (const s of r.forests[0].samples.filter((x) => x.builder === "direct")) s.images = { "base.img": built(s.condition === "empty" ? 11 : 99, true) };
    const [row] = floorRows(r, r.forests[0]);
    expect(row.seconds).to.equal(5);
    expect(row.builders).to.deep.equal([{ id: "direct", median: 10, multiple: 2 }]);
    expect(renderSummary(r, "f.json")).to.include("| base.img | 100 | 50.0 | 3.0 s | 2.0 s | 5.0 s | direct | 10.0 s | 2.0 |");
  });
});

describe("bench: which lvh was measured", () => {
  it("reads an lvh's version from its Go build information where it says none itself", () => {
    const built = (mod: string, vcs = "") => `/x/lvh: go1.26.8\n\tpath\tgithub.com/cilium/little-vm-helper/cmd/lvh\n\tmod\tgithub.com/cilium/little-vm-helper\t${mod}\t\n\tdep\tgithub.com/spf13/cobra\tv1.8.0\th1:x=\n${vcs}`;
    expect(goBuildVersion(built("(devel)", "\tbuild\tvcs=git\n\tbuild\tvcs.revision=67b51596c0ffee0000000000000000000000abcd\n")))
      .to.equal("commit 67b51596c0ff (from its Go build information)");
    expect(goBuildVersion(built("v0.0.19"))).to.equal("v0.0.19 (from its Go build information)");
    expect(goBuildVersion(built("(devel)"))).to.equal(undefined);
  });
});
