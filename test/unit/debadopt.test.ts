// The .debs an image's apt leaves behind join the shared cache only when a
// verified package index lists their content under that name: real files,
// a made-up index.
import { expect } from "chai";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { adoptDebs } from "../../provider/builder/cache/debadopt";
import { archiveFileName, debsByArchiveName } from "../../provider/model/debindex";

const sha256 = (data: string) => createHash("sha256").update(data).digest("hex");

const JQ = "jq's .deb";
const LIBCAP = "libcap2's .deb";
const stanza = (fields: Record<string, string>) => Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join("\n");
const INDEX = [
  stanza({ Package: "jq", Version: "1.6-2.1", Architecture: "amd64", Filename: "pool/main/j/jq/jq_1.6-2.1_amd64.deb",
    Size: String(JQ.length), SHA256: sha256(JQ), Description: "lightweight and flexible command-line JSON processor" }),
  stanza({ Package: "libcap2", Version: "1:2.66-4", Architecture: "amd64", Filename: "pool/main/libc/libcap2/libcap2_2.66-4_amd64.deb",
    Size: String(LIBCAP.length), SHA256: sha256(LIBCAP) }),
  "",
].join("\n\n");

describe("debindex (the packages a verified index lists, by the names apt gives them)", () => {
  it("names each package as apt does, the version's epoch colon quoted as in /var/cache/apt/archives", () => {
    const jq = { package: "jq", version: "1.6-2.1", architecture: "amd64", size: JQ.length, filename: "pool/main/j/jq/jq_1.6-2.1_amd64.deb" };
    expect(archiveFileName(jq)).to.equal("jq_1.6-2.1_amd64.deb");
    expect(archiveFileName({ ...jq, package: "libcap2", version: "1:2.66-4" })).to.equal("libcap2_1%3a2.66-4_amd64.deb");
    expect(archiveFileName({ ...jq, filename: "pool/main/j/jq/jq_1.6-2.1_amd64.udeb" })).to.equal("jq_1.6-2.1_amd64.udeb");
  });

  it("lists each package under the name apt stores it, with its size and SHA256, leaving out stanzas that lack one", () => {
    const noSha = stanza({ Package: "x", Version: "1", Architecture: "all", Filename: "pool/x_1_all.deb", Size: "1" });
    const byName = debsByArchiveName([INDEX, `${noSha}\n`, INDEX]);
    expect([...byName.keys()].sort()).to.deep.equal(["jq_1.6-2.1_amd64.deb", "libcap2_1%3a2.66-4_amd64.deb"]);
    expect(byName.get("libcap2_1%3a2.66-4_amd64.deb")).to.deep.equal([1, 2].map(() => ({ package: "libcap2", version: "1:2.66-4",
      architecture: "amd64", size: LIBCAP.length, filename: "pool/main/libc/libcap2/libcap2_2.66-4_amd64.deb", sha256: sha256(LIBCAP) })));
  });
});

describe("adoptDebs (the .deb cache takes only what a verified index vouches for)", () => {
  let work: string, dir: string, debs: string, lists: string;
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-debadopt-"));
    [dir, debs, lists] = ["downloaded", "debs", "lists"].map((d) => path.join(work, d));
    for (const d of [dir, debs, lists]) fs.mkdirSync(d);
    fs.writeFileSync(path.join(lists, "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"), INDEX);
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it("adopts a listed file under its own name, and refuses forged, renamed and unlisted ones", async () => {
    fs.writeFileSync(path.join(dir, "jq_1.6-2.1_amd64.deb"), JQ);
    // libcap2's content under jq's name of another version, and a forged jq under libcap2's name.
    fs.writeFileSync(path.join(dir, "jq_1.7_amd64.deb"), LIBCAP);
    fs.writeFileSync(path.join(dir, "libcap2_1%3a2.66-4_amd64.deb"), "forged");
    fs.writeFileSync(path.join(dir, "evil_1_amd64.deb"), "not in any index");
    // A link to a genuine file elsewhere is not a file of the run.
    fs.writeFileSync(path.join(work, "elsewhere.deb"), LIBCAP);
    fs.symlinkSync(path.join(work, "elsewhere.deb"), path.join(dir, "libcap2_1%3a2.66-4_amd64.deb.link.deb"));

    const r = await adoptDebs(dir, debs, lists);
    expect(r.adopted).to.deep.equal(["jq_1.6-2.1_amd64.deb"]);
    expect(r.refused).to.deep.equal(["evil_1_amd64.deb", "jq_1.7_amd64.deb", "libcap2_1%3a2.66-4_amd64.deb", "libcap2_1%3a2.66-4_amd64.deb.link.deb"]);
    expect(fs.readdirSync(debs)).to.deep.equal(["jq_1.6-2.1_amd64.deb"]);
    expect(fs.readFileSync(path.join(debs, "jq_1.6-2.1_amd64.deb"), "utf8")).to.equal(JQ);
    expect(fs.readdirSync(dir)).to.deep.equal([]);
    expect(fs.readFileSync(path.join(work, "elsewhere.deb"), "utf8")).to.equal(LIBCAP);
  });

  it("leaves a file the cache has already as it is, and adopts nothing without indexes", async () => {
    fs.writeFileSync(path.join(debs, "jq_1.6-2.1_amd64.deb"), JQ);
    const before = fs.statSync(path.join(debs, "jq_1.6-2.1_amd64.deb")).mtimeMs;
    fs.writeFileSync(path.join(dir, "jq_1.6-2.1_amd64.deb"), JQ);
    fs.writeFileSync(path.join(dir, "libcap2_1%3a2.66-4_amd64.deb"), LIBCAP);
    fs.rmSync(path.join(lists, "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"));
    const r = await adoptDebs(dir, debs, lists);
    expect(r).to.deep.equal({ adopted: [], refused: ["libcap2_1%3a2.66-4_amd64.deb"] });
    expect(fs.statSync(path.join(debs, "jq_1.6-2.1_amd64.deb")).mtimeMs).to.equal(before);
    expect(fs.readdirSync(debs)).to.deep.equal(["jq_1.6-2.1_amd64.deb"]);
  });

  // What an apt hook in the image can leave under a listed package's name.
  const JQ_NAME = "jq_1.6-2.1_amd64.deb";
  const LIBCAP_NAME = "libcap2_1%3a2.66-4_amd64.deb";
  const leftovers = () => [...fs.readdirSync(debs), ...fs.readdirSync(dir)];

  it("refuses a sparse 1 TiB file under a listed name without copying a byte of it", async function () {
    this.timeout(5000);
    fs.writeFileSync(path.join(dir, JQ_NAME), "");
    fs.truncateSync(path.join(dir, JQ_NAME), 2 ** 40);
    const started = Date.now();
    const r = await adoptDebs(dir, debs, lists);
    expect(Date.now() - started).to.be.below(2000);
    expect(r).to.deep.equal({ adopted: [], refused: [JQ_NAME] });
    expect(leftovers()).to.deep.equal([]);
    expect(Number(execFileSync("du", ["-sk", debs], { encoding: "utf8" }).split("\t")[0])).to.be.below(64);
  });

  it("refuses a FIFO and a symlink under listed names without waiting on them or following them", async function () {
    this.timeout(5000);
    execFileSync("mkfifo", [path.join(dir, JQ_NAME)]);
    fs.writeFileSync(path.join(work, "elsewhere.deb"), LIBCAP);
    fs.symlinkSync(path.join(work, "elsewhere.deb"), path.join(dir, LIBCAP_NAME));
    const r = await adoptDebs(dir, debs, lists);
    expect(r).to.deep.equal({ adopted: [], refused: [JQ_NAME, LIBCAP_NAME] });
    expect(leftovers()).to.deep.equal([]);
    expect(fs.readFileSync(path.join(work, "elsewhere.deb"), "utf8")).to.equal(LIBCAP);
  });

  it("refuses a file of the listed size whose content is not the listed one, and adopts the listed one beside it", async () => {
    fs.writeFileSync(path.join(dir, JQ_NAME), "x".repeat(JQ.length));
    fs.writeFileSync(path.join(dir, LIBCAP_NAME), LIBCAP);
    const r = await adoptDebs(dir, debs, lists);
    expect(r).to.deep.equal({ adopted: [LIBCAP_NAME], refused: [JQ_NAME] });
    expect(fs.readdirSync(debs)).to.deep.equal([LIBCAP_NAME]);
    expect(fs.readFileSync(path.join(debs, LIBCAP_NAME), "utf8")).to.equal(LIBCAP);
    expect(fs.readdirSync(dir)).to.deep.equal([]);
  });
});
