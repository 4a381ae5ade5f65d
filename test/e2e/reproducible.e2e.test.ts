// Same inputs, same bytes: the seed forest built twice through the real
// pulumi CLI with the direct backend, from empty image caches, in two
// directories, under two host names (a UTS namespace each), time zones and
// umasks, a minute apart, gives the same base.img and k8s.qcow2, byte for
// byte, and published (each stack to its own repository, so the second
// finds nothing to pull) their layers have the same digests. When the
// images differ, the message names the files that do. The archive is an
// input too: both builds go through a mirror on this machine that keeps the
// indexes it first served, so a Debian update published between the two
// builds (it happens: security's Translation-en once) cannot tell them apart.
import { expect } from "chai";
import * as fs from "node:fs";
import { sha256File } from "../../provider/model/hash";
import { TestMirror } from "../support/mirror";
import { hostAddress } from "../support/ports";
import { craneSync, TestRegistry } from "../support/registry";
import { imageTree, treeDiff } from "../support/tree";
import { TestProject } from "./harness";

interface ImageOut {
  path: string;
  source: string;
  published?: string;
}

/** The digests of a published image's layers. */
const layers = (ref: string) => (JSON.parse(craneSync(["manifest", ref])) as { layers: { digest: string }[] }).layers.map((l) => l.digest);

/** The CLI under its own host name and umask. */
const under = (hostname: string, umask: string) =>
  ["unshare", "--uts", "--", "/bin/sh", "-c", 'hostname "$1"; umask "$2"; shift 2; exec "$@"', "sh", hostname, umask];

/** What differs inside two images, the first few. */
async function whatDiffers(a: string, b: string): Promise<string> {
  const diff = treeDiff(await imageTree(a), await imageTree(b), []);
  return diff.length ? diff.slice(0, 20).join("\n") : "the same files (the file systems' layout or metadata differ)";
}

describe("e2e: reproducible images (direct backend)", function () {
  this.timeout(30 * 60_000);
  const projects: TestProject[] = [];
  let reg: TestRegistry;
  let mirror: TestMirror;
  before(async () => {
    reg = await TestRegistry.start();
    mirror = await TestMirror.start({ freezeIndexes: true, address: hostAddress() });
  });
  after(async () => {
    for (const p of projects) await p.dispose();
    await reg?.dispose();
    await mirror?.close();
  });

  it("builds the seed forest twice to the same bytes, whatever the directory, host name, time zone, umask and clock", async () => {
    const first = await TestProject.fromRepo("dev", { TZ: "America/Los_Angeles" }, under("build-one", "0002"));
    projects.push(first);
    await first.setConfig("backend", "direct");
    await first.setConfig("mirror", mirror.url);
    await first.setConfig("verifyBoot", "false"); // booting leaves the bytes as they are (progress.e2e tests it)
    await first.setConfig("registry", `${reg.host}/first/images`);
    const started = Date.now();
    await first.up();
    const second = await TestProject.fromRepo("dev", { TZ: "Asia/Kolkata" }, under("another-host", "0077"));
    projects.push(second);
    await second.setConfig("backend", "direct");
    await second.setConfig("mirror", mirror.url);
    await second.setConfig("verifyBoot", "false"); // booting leaves the bytes as they are (progress.e2e tests it)
    await second.setConfig("registry", `${reg.host}/second/images`);
    // A minute apart at least: every time a build takes from its clock differs.
    await new Promise((r) => setTimeout(r, Math.max(0, 60_000 - (Date.now() - started))));
    await second.up();
    expect(mirror.replayed, "indexes the second build read as the first did").to.be.greaterThan(0);

    const [a, b] = [(await first.outputs()).images, (await second.outputs()).images] as Record<string, ImageOut>[];
    expect(a["base.img"].path).to.not.equal(b["base.img"].path);
    for (const name of ["base.img", "k8s.qcow2"]) {
      expect(a[name].source).to.equal("built");
      expect(b[name].source).to.equal("built");
      const [da, db] = [await sha256File(a[name].path), await sha256File(b[name].path)];
      if (da !== db) expect.fail(`${name}: sha256 ${da} and ${db}\n${await whatDiffers(a[name].path, b[name].path)}`);
      expect(fs.statSync(a[name].path).size).to.equal(fs.statSync(b[name].path).size);
      console.log(`      ${name}: sha256:${da} in both builds`);
      expect(a[name].published, `${name} published`).to.match(/\/first\/images@sha256:/);
      expect(b[name].published, `${name} published`).to.match(/\/second\/images@sha256:/);
      expect(layers(b[name].published!), `${name}: layer digests`).to.deep.equal(layers(a[name].published!));
    }
  });
});
