import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildKey, type BuildKeyInputs } from "../../provider/model/buildkey";
import { canonicalJson } from "../../provider/model/hash";
import { hashLocalInputs } from "../../provider/model/localinputs";
import { parseImageConfig } from "../../provider/model/config";

const base = (): BuildKeyInputs => ({
  image: parseImageConfig({
    name: "base.img", packages: ["curl", "vim"],
    actions: [{ type: "run-command", cmd: "passwd -d root", comment: "no password" }, { type: "mkdir", dir: "/x" }],
  }),
  backend: "guestfs",
  suite: "bookworm",
  fileHashes: { "env.sh": "aa" },
});

describe("build key", () => {
  it("is stable under what does not matter", () => {
    const a = buildKey(base());
    const b = base();
    b.image = parseImageConfig({
      actions: [{ comment: "other words", cmd: "passwd -d root", type: "run-command" }, { dir: "/x", type: "mkdir" }],
      packages: ["vim", "curl", "vim"], name: "base.img",
    });
    expect(buildKey(b)).to.equal(a);
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).to.equal(canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
  });

  const changes: [string, (i: BuildKeyInputs) => void][] = [
    ["a package", (i) => (i.image = parseImageConfig({ ...i.image, packages: ["curl"] }))],
    ["an action", (i) => (i.image = parseImageConfig({ ...i.image, actions: [{ type: "mkdir", dir: "/y" }] }))],
    ["action order", (i) => (i.image = parseImageConfig({ ...i.image, actions: [...i.image.actions].reverse() }))],
    ["the size", (i) => (i.image = parseImageConfig({ ...i.image, size: "4G" }))],
    ["bootable", (i) => (i.image = parseImageConfig({ ...i.image, bootable: false }))],
    ["the format", (i) => (i.image = parseImageConfig({ ...i.image, name: "base.qcow2" }))],
    ["the backend", (i) => (i.backend = "direct")],
    ["the suite", (i) => (i.suite = "trixie")],
    ["the mirror", (i) => (i.mirror = "http://mirror.example/debian")],
    ["the parent's content digest", (i) => (i.parentDigest = `sha256:${"2".repeat(64)}`)],
    ["an external parent's key", (i) => (i.parentKey = "pulled sha256:2")],
    ["an external parent file", (i) => (i.parentFile = "1:2:3")],
    ["a local file's content", (i) => (i.fileHashes = { "env.sh": "bb" })],
  ];
  for (const [what, change] of changes) {
    it(`changes with ${what}`, () => {
      const i = base();
      change(i);
      expect(buildKey(i)).not.to.equal(buildKey(base()));
    });
  }

  it("hashes each local file the actions read, keyed as written, including files inside directories", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-key-"));
    try {
      fs.mkdirSync(path.join(dir, "bootstrap"));
      fs.writeFileSync(path.join(dir, "bootstrap", "net.sh"), "ip link\n");
      fs.writeFileSync(path.join(dir, "env.sh"), "X=1\n");
      const image = parseImageConfig({ name: "a.img", actions: [
        { type: "upload", file: "env.sh", dest: "/etc/env.sh" },
        { type: "copy-in", localPath: "bootstrap", remoteDir: "/root" },
      ] });
      const before = await hashLocalInputs(image, { baseDir: dir, allowed: [] });
      expect(Object.keys(before).sort()).to.deep.equal(["bootstrap/", "bootstrap/net.sh", "env.sh"]);
      fs.writeFileSync(path.join(dir, "bootstrap", "net.sh"), "ip addr\n");
      const after = await hashLocalInputs(image, { baseDir: dir, allowed: [] });
      expect(after["bootstrap/net.sh"]).not.to.equal(before["bootstrap/net.sh"]);
      expect(after["env.sh"]).to.equal(before["env.sh"]);
      fs.chmodSync(path.join(dir, "env.sh"), 0o755);
      expect((await hashLocalInputs(image, { baseDir: dir, allowed: [] }))["env.sh"]).not.to.equal(before["env.sh"]);
      fs.rmSync(path.join(dir, "env.sh"));
      let message = "";
      await hashLocalInputs(image, { baseDir: dir, allowed: [] }).catch((e: Error) => (message = e.message));
      expect(message).to.match(/image "a\.img": actions\[0\] \(upload\)\.file: .*env\.sh does not exist/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
