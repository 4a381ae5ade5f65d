// What lvh builds, we build: images.json read by the rules of lvh's Go
// decoder, apt's package syntax, the sizes lvh's tools take, several links;
// and build keys that follow what the image is built from.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ACTION_TYPES, customizeArgs, guestOps } from "../../provider/actions";
import { buildKey, type BuildKeyInputs } from "../../provider/model/buildkey";
import { ConfigErrors, type ImageConfig, parseImageConfig, resizeOf, rootSizeBytes } from "../../provider/model/config";
import { loadLvhImagesFile, readLvhImagesFile } from "../../provider/model/imagesfile";
import { hashLocalInputs } from "../../provider/model/localinputs";
import { readLvhImages } from "../../provider/model/lvh";
import { configErrorOf } from "../support/errors";

const read = (images: unknown) => readLvhImages(JSON.stringify(images));
const one = (image: Record<string, unknown>) => read([{ name: "a.img", packages: [], ...image }]).images[0];

const errorOf = configErrorOf;

describe("lvh's images.json, as lvh's decoder reads it", () => {
  it("ignores unknown fields, with a warning naming image, field and the likely typo", () => {
    const { images, warnings } = read([
      { name: "a.img", pacakges: ["curl"], owner: "me", packages: [],
        actions: [{ type: "run-command", comentt: "x", op: { Cmd: "true", Timeout: 5 } }] },
    ]);
    expect(images[0].packages).to.deep.equal([]);
    expect(images[0].actions).to.deep.equal([{ type: "run-command", cmd: "true" }]);
    expect(warnings).to.have.length(4);
    expect(warnings[0]).to.equal('image "a.img": "pacakges" is not a field lvh knows; ignored, as lvh ignores it (did you mean "packages"?)');
    expect(warnings[1]).to.match(/^image "a\.img": "owner" is not a field lvh knows; ignored, as lvh ignores it$/);
    expect(warnings[2]).to.match(/actions\[0\]: "comentt" .* \(did you mean "comment"\?\)/);
    expect(warnings[3]).to.match(/actions\[0\] \(run-command\)\.op: "Timeout" is not a field lvh knows/);
  });

  const unset: [string, Record<string, unknown>, Partial<ImageConfig>][] = [
    ["null parent", { parent: null }, { parent: undefined }],
    ['"" parent', { parent: "" }, { parent: undefined }],
    ["null image_size", { image_size: null }, { size: undefined }],
    ['"" image_size', { image_size: "" }, { size: undefined }],
    ["null bootable", { bootable: null }, { bootable: undefined }],
    ["null packages", { packages: null }, { packages: [] }],
    ["null actions", { actions: null }, { actions: [] }],
    ["null comment", { actions: [{ comment: null, type: "mkdir", op: { Dir: "/x" } }] }, { actions: [{ type: "mkdir", dir: "/x" }] }],
  ];
  for (const [what, image, expected] of unset) {
    it(`reads ${what} as unset`, () => {
      const img = one(image) as Record<string, unknown>;
      for (const [k, v] of Object.entries(expected)) expect(img[k], k).to.deep.equal(v);
    });
  }

  it("matches keys case-insensitively, with Go's folding of ſ and K", () => {
    const img = one({ NAME: "b.img", Image_ſize: "2G", actions: [{ TYPE: "mkdir", Op: { dir: "/x" } }, { type: "link", op: { target: "/a", linK: "/b" } }] });
    expect(img).to.deep.include({ name: "b.img", size: "2G" });
    expect(img.actions[1]).to.deep.equal({ type: "link", target: "/a", link: "/b" });
  });

  const refused: [string, unknown, RegExp][] = [
    ["a missing type", [{ name: "a.img", actions: [{ op: { Cmd: "x" } }] }], /image "a\.img": actions\[0\]\.type: the action type is missing; expected one of/],
    ["an empty type", [{ name: "a.img", actions: [{ type: "", op: {} }] }], /actions\[0\]\.type: the action type is missing/],
    ["a mistyped type, with the type it resembles", [{ name: "a.img", actions: [{ type: "run-comand", op: { Cmd: "x" } }] }],
      /actions\[0\]\.type: unknown action type "run-comand" \(did you mean "run-command"\?\); expected one of run-command, /],
    ["a missing op", [{ name: "a.img", actions: [{ type: "mkdir" }] }], /actions\[0\] \(mkdir\)\.op: missing; mkdir takes an op with Dir/],
    ["an empty Cmd, named as written", [{ name: "a.img", actions: [{ type: "mkdir", op: { Dir: "/x" } }, { type: "mkdir", op: { Dir: "/y" } },
      { type: "run-command", op: { Cmd: "" } }] }], /image "a\.img": actions\[2\] \(run-command\)\.op\.Cmd: Cmd must not be empty/],
    ["a lower-case cmd, named as written", [{ name: "a.img", actions: [{ type: "run-command", op: { cmd: "" } }] }],
      /actions\[0\] \(run-command\)\.op\.cmd: cmd must not be empty/],
    ["a bad image_size, named as written", [{ name: "a.img", Image_Size: "lots" }], /image "a\.img": Image_Size: Image_Size must be a size guestfish takes/],
    ["the { Dir, Images } wrapper", { Dir: "x", Images: [] }, /must be a JSON list of images/],
    ["a number as name", [{ name: 5 }], /image "#1": name: name must be a string/],
  ];
  for (const [what, file, message] of refused) {
    it(`refuses ${what}`, () => expect(errorOf(() => read(file))).to.match(message));
  }

  it("says where a file stops being JSON, by line and column", () => {
    expect(errorOf(() => readLvhImages('[\n  { "name": "base.img", }\n]', "x.json"))).to.match(/^x\.json: invalid JSON: .* \(line 2, column 25\)$/);
  });

  it("reads null as an empty list of images", () => {
    expect(readLvhImages("null").images).to.deep.equal([]);
  });

  it("refuses, from the file, duplicate names and parent cycles", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-lvh-"));
    try {
      const file = path.join(dir, "images.json");
      fs.writeFileSync(file, JSON.stringify([{ name: "a.img" }, { name: "a.img" }]));
      expect(errorOf(() => loadLvhImagesFile(file))).to.match(/image "a\.img": name: duplicate image name/);
      fs.writeFileSync(file, JSON.stringify([{ name: "a.img", parent: "b.img" }, { name: "b.img", parent: "a.img" }]));
      expect(errorOf(() => loadLvhImagesFile(file))).to.match(/parent cycle: a\.img -> b\.img -> a\.img/);
      fs.writeFileSync(file, JSON.stringify([{ name: "a.img", pacakges: [] }]));
      expect(readLvhImagesFile(file).warnings).to.have.length(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("every problem of an images file at once", () => {
  it("names each one after the file, with its image and its field as the file spells it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-lvh-"));
    try {
      const file = path.join(dir, "images.json");
      fs.writeFileSync(file, JSON.stringify([
        { name: "a.img", image_size: "lots", actions: [
          { type: "explode", op: {} }, { type: "mkdir", op: { Dir: "/x" } }, { type: "run-command", op: { Cmd: "" } },
        ] },
        { name: "b.img", parent: "a.img", actions: [{ type: "upload", op: {} }] },
        { name: "c.img", parent: "d.img" }, { name: "d.img", parent: "c.img" }, { name: "b.img" }, 7,
      ]));
      let err: unknown;
      try {
        readLvhImagesFile(file);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ConfigErrors);
      expect((err as ConfigErrors).messages()).to.deep.equal([
        `${file}: image "a.img": actions[0].type: unknown action type "explode"; expected one of ${ACTION_TYPES.join(", ")}`,
        `${file}: image "a.img": actions[2] (run-command).op.Cmd: Cmd must not be empty`,
        `${file}: image "a.img": image_size: image_size must be a size guestfish takes, such as 8G, 8GiB, 8GB, 512M or 10737418240`,
        `${file}: image "b.img": actions[0] (upload).op.File: missing; upload takes File, Dest`,
        `${file}: image "b.img": actions[0] (upload).op.Dest: missing; upload takes File, Dest`,
        `${file}: image "#6": each image must be a JSON object`,
        `${file}: image "b.img": name: duplicate image name`,
        `${file}: image "c.img": parent: parent cycle: c.img -> d.img -> c.img`,
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("packages, as apt-get install takes them", () => {
  const accepted = ["curl", "g++", "libc6:amd64", "curl=7.88.1-10+deb12u5", "curl/bookworm-backports", "libc6:amd64=2.36-9+deb12u9",
    "vim=2:9.0.1378-2", "linux-image-6.1.0-28-amd64", "xz-utils:i386/bookworm", "tzdata=2024a-0+deb12u1"];
  for (const p of accepted) it(`accepts ${p}`, () => expect(one({ packages: [p] }).packages).to.deep.equal([p]));

  const refused = ["curl-", "curl*", "?name(curl)", "~ncurl", "curl=", "Curl", "curl=1.0/bookworm", "curl/bookworm=1.0", "a b",
    "curl;reboot", "-curl", "c", "curl=x1.0", "$(id)"];
  for (const p of refused) {
    it(`refuses ${JSON.stringify(p)}`, () => expect(errorOf(() => one({ packages: [p] }))).to.match(/packages\[0\]: .* is not a valid Debian package name/));
  }
});

describe("sizes, as lvh's tools take them", () => {
  const G = 2 ** 30;
  const root: [string, number][] = [
    ["8G", 8 * G], ["8GiB", 8 * G], ["8GB", 8e9], ["8GD", 8e9], ["10737418240", 10 * G], ["+8G", 8 * G], ["010G", 8 * G],
    ["0x10G", 16 * G], ["8K", 8192], ["8k", 8192], ["8KB", 8000], ["512M", 512 * 2 ** 20], ["1T", 2 ** 40],
  ];
  for (const [s, bytes] of root) it(`reads a root image's ${s} as guestfish does`, () => expect(rootSizeBytes(s)).to.equal(bytes));
  for (const s of ["8g", "1.5G", "8b", "8 G", "-1G", "0", "08G", "8Gi", "", "G"]) {
    it(`refuses a root image's ${JSON.stringify(s)}, as guestfish does`, () => {
      expect(rootSizeBytes(s)).to.be.NaN;
      if (s !== "") expect(errorOf(() => one({ image_size: s }))).to.match(/image_size: image_size must be a size guestfish takes/);
    });
  }

  const derived: [string, { grow: boolean; bytes: number }][] = [
    ["+2G", { grow: true, bytes: 2 * G }], ["10G", { grow: false, bytes: 10 * G }], ["10g", { grow: false, bytes: 10 * G }],
    ["+1.5G", { grow: true, bytes: 1.5 * G }], ["+512", { grow: true, bytes: 512 }], ["12884901888", { grow: false, bytes: 12 * G }],
  ];
  for (const [s, r] of derived) it(`reads a derived image's ${s} as qemu-img resize does`, () => expect(resizeOf(s)).to.deep.equal(r));
  for (const s of ["8GiB", "8GB", "-1G", "+2GiB", "+ 2G", "0x10G", "+0"]) {
    it(`refuses a derived image's ${JSON.stringify(s)}, as qemu-img resize does`, () => {
      expect(resizeOf(s)).to.equal(undefined);
      expect(errorOf(() => one({ parent: "p.img", image_size: s }))).to.match(/image_size: image_size must be a size qemu-img resize takes/);
    });
  }

  it("refuses a qcow2 size that is no multiple of 512, as qemu-img resize does", () => {
    expect(errorOf(() => read([{ name: "c.qcow2", parent: "p.img", image_size: "+1" }]))).to.match(/multiple of 512 bytes/);
    expect(one({ parent: "p.img", image_size: "+1" }).size).to.equal("+1");
  });
});

describe("link with several links", () => {
  const ctx = { resolve: (p: string) => p, kernelIn: () => "", scratch: (n: string) => n, modeOf: () => ({ mode: 0o644, uid: 0, gid: 0 }) };
  const action = one({ actions: [{ type: "link", op: { Target: "/usr/bin/vim", Link: "/usr/bin/vi:/usr/bin/ex" } }] }).actions[0];

  it("is one virt-customize argument, as lvh passes it", () => {
    expect(customizeArgs(action, ctx)).to.deep.equal([["--link", "/usr/bin/vim:/usr/bin/vi:/usr/bin/ex"]]);
  });

  it("is one ln per link in the sandbox", () => {
    expect(guestOps(action, ctx)).to.deep.equal([
      { op: "exec", argv: ["ln", "-sf", "/usr/bin/vim", "/usr/bin/vi"] },
      { op: "exec", argv: ["ln", "-sf", "/usr/bin/vim", "/usr/bin/ex"] },
    ]);
  });

  it("refuses a relative link among them", () => {
    expect(errorOf(() => one({ actions: [{ type: "link", op: { Target: "/a", Link: "/b:c" } }] }))).to.match(/op\.Link: Link must be absolute paths/);
  });
});

describe("build keys that follow what the image is built from", () => {
  const key = (image: Record<string, unknown>, over: Partial<BuildKeyInputs> = {}) =>
    buildKey({ image: parseImageConfig({ name: "a.img", ...image }), backend: "direct", suite: "bookworm", fileHashes: {}, ...over });

  it("is one key for one size however it is spelled", () => {
    expect(key({ size: "8GiB" })).to.equal(key({}));
    expect(key({ size: "8589934592" })).to.equal(key({ size: "8G" }));
    expect(key({ size: "8GB" })).not.to.equal(key({ size: "8G" }));
    expect(key({ parent: "p.img", size: "+2048M" }, { parentFile: "x" })).to.equal(key({ parent: "p.img", size: "+2G" }, { parentFile: "x" }));
    expect(key({ parent: "p.img", size: "+2G" }, { parentFile: "x" })).not.to.equal(key({ parent: "p.img", size: "2G" }, { parentFile: "x" }));
  });

  it("holds version pins as written", () => {
    expect(key({ packages: ["curl=7.88.1-10+deb12u5"] })).not.to.equal(key({ packages: ["curl"] }));
    expect(key({ packages: ["curl=7.88.1-10+deb12u5"] })).not.to.equal(key({ packages: ["curl=7.88.1-10+deb12u4"] }));
  });

  it("hashes what upload reads through a link, and copy-in's link itself", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-links-"));
    try {
      fs.writeFileSync(path.join(dir, "real.sh"), "echo 1\n");
      fs.symlinkSync("real.sh", path.join(dir, "link.sh"));
      const upload = parseImageConfig({ name: "a.img", actions: [{ type: "upload", file: "link.sh", dest: "/x" }] });
      const copy = parseImageConfig({ name: "a.img", actions: [{ type: "copy-in", localPath: "link.sh", remoteDir: "/" }] });
      const before = { upload: await hashLocalInputs(upload, { baseDir: dir, allowed: [] }), copy: await hashLocalInputs(copy, { baseDir: dir, allowed: [] }) };
      fs.writeFileSync(path.join(dir, "real.sh"), "echo 2\n");
      expect(await hashLocalInputs(upload, { baseDir: dir, allowed: [] })).not.to.deep.equal(before.upload);
      expect(await hashLocalInputs(copy, { baseDir: dir, allowed: [] })).to.deep.equal(before.copy);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
