// adopt-lists.sh, run for real on made-up lists: an index an image's apt
// fetched joins the lists cache only when the cache's InRelease gives its
// SHA256; nothing else of the image's does.
import { expect } from "chai";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hostScript } from "../../provider/builder/run/shell";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const MIRROR = "deb.debian.org_debian_dists_bookworm";

describe("adopt-lists.sh (the lists cache takes only what the cache's InRelease vouches for)", () => {
  let work: string, lists: string, cache: string;
  const adopt = () => execFileSync("sh", [hostScript("adopt-lists.sh"), lists, cache]);
  const cached = () => fs.readdirSync(cache).sort();

  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-adopt-"));
    lists = path.join(work, "lists");
    cache = path.join(work, "cache");
    fs.mkdirSync(lists);
    fs.mkdirSync(cache);
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it("adopts an index whose SHA256 the InRelease gives, and nothing else of the image's", () => {
    const genuine = "Package: jq\nDescription-en: JSON processor\n";
    const forged = "Package: jq\nDescription-en: forged\n";
    // The forged text's digest appears, but only in the MD5Sum section, which does not count.
    fs.writeFileSync(path.join(cache, `${MIRROR}_InRelease`), [
      "Origin: Debian", "Suite: stable", "MD5Sum:",
      ` ${sha256(forged)} ${forged.length} contrib/i18n/Translation-en`,
      "SHA256:",
      ` ${sha256(genuine)} ${genuine.length} main/i18n/Translation-en`,
      ` ${sha256(genuine)} ${genuine.length} non-free/i18n/Translation-en`,
      "",
    ].join("\n"));
    fs.writeFileSync(path.join(lists, `${MIRROR}_main_i18n_Translation-en`), genuine);
    fs.writeFileSync(path.join(lists, `${MIRROR}_contrib_i18n_Translation-en`), forged);
    // A link to a host file, even one with the right content, is not taken.
    fs.writeFileSync(path.join(work, "outside"), genuine);
    fs.symlinkSync(path.join(work, "outside"), path.join(lists, `${MIRROR}_non-free_i18n_Translation-en`));
    // The right digest with the wrong size, as a release file could never give it.
    fs.writeFileSync(path.join(cache, `${MIRROR}-updates_InRelease`), `SHA256:\n ${sha256(genuine)} ${genuine.length + 1} main/i18n/Translation-en\n`);
    fs.writeFileSync(path.join(lists, `${MIRROR}-updates_main_i18n_Translation-en`), genuine);
    // An index of a suite the cache has no InRelease for, and the image's own InRelease.
    fs.writeFileSync(path.join(lists, "deb.debian.org_debian_dists_trixie_main_i18n_Translation-en"), genuine);
    fs.writeFileSync(path.join(lists, "deb.debian.org_debian_dists_trixie_InRelease"), "SHA256:\n");
    adopt();
    expect(cached()).to.deep.equal([`${MIRROR}-updates_InRelease`, `${MIRROR}_InRelease`, `${MIRROR}_main_i18n_Translation-en`]);
    expect(fs.readFileSync(path.join(cache, `${MIRROR}_main_i18n_Translation-en`), "utf8")).to.equal(genuine);
  });

  it("leaves no killed build's half-copied file behind for long (mmdebstrap-hook.sh lists-out)", () => {
    const root = path.join(work, "root");
    fs.mkdirSync(path.join(root, "var/lib/apt/lists"), { recursive: true });
    fs.writeFileSync(path.join(root, "var/lib/apt/lists", `${MIRROR}_InRelease`), "SHA256:\n");
    const stale = path.join(cache, `.${MIRROR}_main_binary-amd64_Packages.123`);
    const fresh = path.join(cache, `.${MIRROR}_main_i18n_Translation-en.456`);
    fs.writeFileSync(stale, "half");
    fs.writeFileSync(fresh, "being copied");
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    fs.utimesSync(stale, twoHoursAgo, twoHoursAgo);
    execFileSync("sh", [hostScript("mmdebstrap-hook.sh"), "lists-out", root, cache]);
    expect(fs.readdirSync(cache).sort()).to.deep.equal([path.basename(fresh), `${MIRROR}_InRelease`].sort());
  });

  it("replaces an older index in the cache only with the one the InRelease gives", () => {
    const text = "Package: jq\nVersion: 2\n";
    const packages = path.join(cache, `${MIRROR}_main_binary-amd64_Packages`);
    fs.writeFileSync(path.join(cache, `${MIRROR}_InRelease`), `SHA256:\n ${sha256(text)} ${text.length} main/binary-amd64/Packages\n`);
    fs.writeFileSync(packages, "Package: jq\nVersion: 1\n");
    fs.writeFileSync(path.join(lists, `${MIRROR}_main_binary-amd64_Packages`), "Package: jq\nVersion: 3\n");
    adopt();
    expect(fs.readFileSync(packages, "utf8")).to.equal("Package: jq\nVersion: 1\n");
    fs.writeFileSync(path.join(lists, `${MIRROR}_main_binary-amd64_Packages`), text);
    adopt();
    expect(fs.readFileSync(packages, "utf8")).to.equal(text);
    expect(cached()).to.deep.equal([`${MIRROR}_InRelease`, `${MIRROR}_main_binary-amd64_Packages`]);
  });
});
