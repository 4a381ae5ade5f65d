import { expect } from "chai";
import { ACTION_FIELDS, ACTION_TYPES } from "../../provider/actions";
import { parseImageConfig, sizeBytes } from "../../provider/model/config";
import { parseLvhImages, toLvhImage } from "../../provider/model/lvh";
import { configErrorOf } from "../support/errors";

/** One lvh op of every action type, as lvh's own JSON spells it. */
const LVH_ACTIONS: Record<string, Record<string, string>> = {
  "run-command": { Cmd: "passwd -d root" },
  "copy-in": { LocalPath: "bootstrap", RemoteDir: "/root" },
  "set-hostname": { Hostname: "kind-node" },
  mkdir: { Dir: "/etc/ssh/sshd_config.d" },
  upload: { File: "env.sh", Dest: "/etc/profile.d/env.sh" },
  chmod: { Permissions: "0755", File: "/etc/profile.d/env.sh" },
  "append-line": { File: "/etc/hosts", Line: "10.0.0.2 peer" },
  link: { Target: "/usr/bin/vim.basic", Link: "/usr/local/bin/vi" },
  "install-kernel": { KernelInstallDir: "kernels/bpf-next" },
  "tar-in": { TarFile: "extra.tar", RemoteDir: "/opt" },
};

const lvh = (images: unknown) => parseLvhImages(JSON.stringify(images));

const errorOf = configErrorOf;

describe("schema", () => {
  it("covers every lvh action type", () => {
    expect(Object.keys(LVH_ACTIONS).sort()).to.deep.equal([...ACTION_TYPES].sort());
  });

  for (const type of Object.keys(LVH_ACTIONS)) {
    it(`round-trips lvh's ${type} action`, () => {
      const raw = [{ name: "a.img", packages: [], actions: [{ comment: "c", type, op: LVH_ACTIONS[type] }] }];
      const [img] = lvh(raw);
      expect(img.actions[0].type).to.equal(type);
      const fields = ACTION_FIELDS[type as keyof typeof ACTION_FIELDS] as Record<string, string>;
      for (const [goName, ours] of Object.entries(fields)) {
        expect((img.actions[0] as Record<string, unknown>)[ours]).to.equal(LVH_ACTIONS[type][goName]);
      }
      expect(toLvhImage(img)).to.deep.equal(raw[0]);
    });
  }

  it("accepts op fields in any letter case, as Go's JSON decoding does", () => {
    const [img] = lvh([{ name: "a.img", packages: [], actions: [{ type: "run-command", op: { cmd: "true" } }] }]);
    expect(img.actions[0]).to.deep.equal({ type: "run-command", cmd: "true" });
  });

  it("loads the seed example with lvh's defaults", () => {
    const [base, k8s] = lvh([
      { name: "base.img", packages: ["less", "vim", "sudo", "openssh-server", "curl"],
        actions: [{ comment: "disable password for root", type: "run-command", op: { Cmd: "passwd -d root" } }] },
      { name: "k8s.qcow2", parent: "base.img", packages: ["docker.io"] },
    ]);
    expect(base.parent).to.equal(undefined);
    expect(base.size).to.equal(undefined);
    expect(k8s.parent).to.equal("base.img");
    expect(k8s.actions).to.deep.equal([]);
  });

  it("accepts null packages, and refuses the { Dir, Images } wrapper as lvh images build does", () => {
    expect(lvh([{ name: "a.img", packages: null }])[0].packages).to.deep.equal([]);
    expect(errorOf(() => parseLvhImages(JSON.stringify({ Dir: "x", Images: [{ name: "a.img" }] }))))
      .to.match(/images\.json: must be a JSON list of images/);
  });

  it("accepts the idiomatic form", () => {
    const img = parseImageConfig({ name: "a.qcow2", size: "10G", actions: [{ type: "mkdir", dir: "/x" }] });
    expect(img).to.deep.equal({ name: "a.qcow2", size: "10G", packages: [], actions: [{ type: "mkdir", dir: "/x" }] });
    expect(Object.isFrozen(img)).to.equal(true);
  });

  const bad: [string, () => unknown, RegExp][] = [
    ["invalid JSON", () => parseLvhImages("[{"), /images\.json: invalid JSON/],
    ["not a list", () => parseLvhImages('"x"'), /must be a JSON list of images/],
    ["unknown action type", () => lvh([{ name: "a.img", packages: [], actions: [{ type: "explode", op: {} }] }]),
      /image "a\.img": actions\[0\]\.type: unknown action type "explode"; expected one of run-command/],
    ["missing op field", () => lvh([{ name: "a.img", packages: [], actions: [{ type: "upload", op: { File: "x" } }] }]),
      /image "a\.img": actions\[0\] \(upload\)\.op\.Dest: missing/],
    ["empty name", () => lvh([{ name: "", packages: [] }]), /image "#1": name: name must not be empty/],
    ["name with /", () => lvh([{ name: "x/a.img", packages: [] }]), /image "x\/a\.img": name: name must be a file name/],
    ["name with ..", () => lvh([{ name: "..", packages: [] }]), /name: name must not contain '\.\.'/],
    ["parent with /", () => lvh([{ name: "a.img", parent: "../b.img", packages: [] }]), /image "a\.img": parent:/],
    ["bad size", () => lvh([{ name: "a.img", image_size: "8 gigs", packages: [] }]), /image "a\.img": image_size: image_size must be a size guestfish takes/],
    ["zero size", () => lvh([{ name: "a.img", image_size: "0", packages: [] }]), /image_size must be a size guestfish takes/],
    ["bad package", () => lvh([{ name: "a.img", packages: ["curl; rm -rf /"] }]),
      /image "a\.img": packages\[0\]: "curl; rm -rf \/" is not a valid Debian package name/],
    ["upper-case package", () => lvh([{ name: "a.img", packages: ["Curl"] }]), /not a valid Debian package name/],
    ["relative guest path", () => parseImageConfig({ name: "a.img", actions: [{ type: "mkdir", dir: "etc" }] }),
      /actions\[0\] \(mkdir\)\.dir: dir must be an absolute path inside the image/],
    ["bad permissions", () => parseImageConfig({ name: "a.img", actions: [{ type: "chmod", permissions: "rwx", file: "/x" }] }),
      /permissions must be an octal mode/],
    ["bad hostname", () => parseImageConfig({ name: "a.img", actions: [{ type: "set-hostname", hostname: "a b" }] }),
      /hostname must be a valid host name/],
    ["multi-line append", () => parseImageConfig({ name: "a.img", actions: [{ type: "append-line", file: "/x", line: "a\nb" }] }),
      /line must be a single line/],
    ["bootable not boolean", () => parseImageConfig({ name: "a.img", bootable: "yes" }), /bootable must be true or false/],
  ];
  for (const [what, fn, message] of bad) {
    it(`refuses ${what}`, () => expect(errorOf(fn)).to.match(message));
  }

  it("reads qemu sizes", () => {
    expect(sizeBytes("8G")).to.equal(8 * 2 ** 30);
    expect(sizeBytes("512M")).to.equal(512 * 2 ** 20);
    expect(sizeBytes("1.5k")).to.equal(1536);
    expect(sizeBytes("4096")).to.equal(4096);
    expect(sizeBytes("8 G")).to.be.NaN;
  });
});
