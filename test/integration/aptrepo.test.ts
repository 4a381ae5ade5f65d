// The tests' own signed apt repository is a real one: the real apt-get, with
// a configuration of its own that trusts nothing but the repository's key
// (signed-by=), updates from it, refuses it when its InRelease is tampered
// with, and sees a package's new version once the repository moves it. Its
// close() leaves no gpg-agent behind.
import { expect } from "chai";
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { AptRepo } from "../support/aptrepo";

const run = promisify(execFile);

/** Options that keep apt to the files of dir: no lists, cache, sources, keys, preferences or settings of this machine. */
function aptOptions(dir: string, sources: string): string[] {
  const d = (name: string) => {
    const p = path.join(dir, name);
    fs.mkdirSync(p, { recursive: true });
    return p;
  };
  const status = path.join(dir, "status");
  if (!fs.existsSync(status)) fs.writeFileSync(status, "");
  fs.mkdirSync(path.join(dir, "state", "lists", "partial"), { recursive: true });
  fs.mkdirSync(path.join(dir, "cache", "archives", "partial"), { recursive: true });
  return Object.entries({
    "Dir::State": d("state"), "Dir::State::status": status, "Dir::Cache": d("cache"),
    "Dir::Etc::SourceList": sources, "Dir::Etc::SourceParts": d("sources.list.d"),
    "Dir::Etc::Trusted": path.join(dir, "no-trusted.gpg"), "Dir::Etc::TrustedParts": d("trusted.gpg.d"),
    "Dir::Etc::Parts": d("apt.conf.d"), "Dir::Etc::Preferences": path.join(dir, "no-preferences"),
    "Dir::Etc::PreferencesParts": d("preferences.d"), "APT::Architecture": "amd64", "APT::Architectures": "amd64",
    "APT::Sandbox::User": "root", "Acquire::Languages": "none",
  }).flatMap(([k, v]) => ["-o", `${k}=${v}`]);
}

/**
 * Runs apt, async: the repository's server runs in this process and must
 * answer while apt waits. Updates are given --error-on=any, as otherwise a
 * repository that fails verification is a warning and the old lists are kept.
 */
async function apt(cmd: "apt-get" | "apt-cache", options: string[], args: string[]): Promise<{ ok: boolean; out: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: "C" };
  for (const k of ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"]) delete env[k];
  try {
    const { stdout, stderr } = await run(cmd, [...options, ...args], { env });
    return { ok: true, out: stdout + stderr };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return { ok: false, out: `${err.stdout ?? ""}${err.stderr ?? ""}${err.message}` };
  }
}

function get(url: string, method = "GET"): Promise<number> {
  return new Promise((resolve, reject) => {
    http.request(url, { method }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    }).on("error", reject).end();
  });
}

function agents(home: string): string[] {
  return fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      return cmdline.includes("gpg-agent") && cmdline.includes(home) ? [`${pid}: ${cmdline}`] : [];
    } catch {
      return [];
    }
  });
}

describe("integration: the tests' own signed apt repository", function () {
  this.timeout(2 * 60 * 1000);
  let tmp: string;
  let repo: AptRepo | undefined;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-aptrepo-test-"));
    repo = await AptRepo.create({ packages: [{ name: "vmimages-probe", version: "1.0" }] });
  });
  after(async () => {
    await repo?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("is updated from with its key only, refused when tampered with, and moves a version", async () => {
    const r = repo!;
    expect(r.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const sources = path.join(tmp, "sources.list");
    fs.writeFileSync(sources, `${r.sourcesLine()}\n`);
    expect(r.sourcesLine("/etc/apt/keyrings/t.gpg")).to.equal(`deb [signed-by=/etc/apt/keyrings/t.gpg] ${r.url} vmimages-test main`);
    const o = aptOptions(tmp, sources);

    const first = await apt("apt-get", o, ["update", "--error-on=any"]);
    expect(first.ok, first.out).to.equal(true);
    expect(first.out).to.not.match(/^[WE]:/m);
    const show = await apt("apt-cache", o, ["show", "vmimages-probe"]);
    expect(show.out).to.match(/^Version: 1\.0$/m);

    // A byte changed in the signed text: apt verifies, and refuses.
    const inRelease = path.join(r.root, "dists", "vmimages-test", "InRelease");
    fs.writeFileSync(inRelease, fs.readFileSync(inRelease, "utf8").replace("Label: vm-images-test", "Label: vm-images-tesT"));
    const tampered = await apt("apt-get", o, ["update", "--error-on=any"]);
    expect(tampered.ok, tampered.out).to.equal(false);
    expect(tampered.out).to.match(/BADSIG|signatures were invalid|not signed/);

    // A new version, re-signed; a package added that depends on it.
    await r.setVersion("vmimages-probe", "1.1");
    await r.add({ name: "vmimages-probe-user", version: "2.0", depends: "vmimages-probe (>= 1.1)" });
    expect(r.contents.map((p) => `${p.name}=${p.version}`)).to.deep.equal(["vmimages-probe=1.1", "vmimages-probe-user=2.0"]);
    const second = await apt("apt-get", o, ["update", "--error-on=any"]);
    expect(second.ok, second.out).to.equal(true);
    expect(second.out).to.not.match(/^[WE]:/m);
    const madison = await apt("apt-cache", o, ["madison", "vmimages-probe"]);
    expect(madison.out.trim().split("\n").map((l) => l.split("|")[1].trim())).to.deep.equal(["1.1"]);
    const user = await apt("apt-cache", o, ["show", "vmimages-probe-user"]);
    expect(user.out).to.match(/^Depends: vmimages-probe \(>= 1\.1\)$/m);

    // The package is what the index says: its file holds its version.
    const deb = path.join(r.root, "pool", "main", "vmimages-probe_1.1_all.deb");
    const listing = execFileSync("dpkg-deb", ["--contents", deb], { encoding: "utf8" });
    expect(listing).to.match(/\.\/usr\/share\/vmimages-probe\/version$/m);
    expect(fs.readdirSync(path.join(r.root, "pool", "main")).sort()).to.deep.equal(["vmimages-probe-user_2.0_all.deb", "vmimages-probe_1.1_all.deb"]);
  });

  it("serves GET and HEAD of its files, and nothing outside them", async () => {
    const r = repo!;
    expect(await get(`${r.url}dists/vmimages-test/InRelease`)).to.equal(200);
    expect(await get(`${r.url}dists/vmimages-test/Release.gpg`, "HEAD")).to.equal(200);
    expect(await get(`${r.url}dists/vmimages-test/Release`, "POST")).to.equal(404);
    expect(await get(`${r.url}dists/vmimages-test/nothing`)).to.equal(404);
    expect(await get(`${r.url}dists`)).to.equal(404);
    // The key file is next to the served directory: one step out, were the server to allow it.
    expect(fs.existsSync(path.join(r.root, "..", path.basename(r.keyFile)))).to.equal(true);
    expect(await get(`${r.url}..%2frepository-key.gpg`)).to.equal(404);
    expect(await get(`${r.url}dists%2f..%2f..%2frepository-key.gpg`)).to.equal(404);
    expect(await get(`${r.url}%2e%2e/repository-key.gpg`)).to.equal(404);
  });

  it("leaves no gpg-agent and no file when closed", async () => {
    const r = repo!;
    const home = path.dirname(r.keyFile);
    expect(agents(home), "an agent holds the key while the repository is open").to.have.length.greaterThan(0);
    await r.close();
    repo = undefined;
    expect(agents(home)).to.deep.equal([]);
    expect(fs.existsSync(home)).to.equal(false);
  });
});
