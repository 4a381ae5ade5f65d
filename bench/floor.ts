// The physical floor of a root image on this machine: the download of its
// packages and their unpack, each measured by itself. Its packages are those
// a build of the root alone downloads into empty package caches (untimed);
// the download fetches the same .debs from the same mirror into an empty
// directory, several at a time (curl --parallel); the unpack extracts each
// into one empty directory (dpkg-deb -x, one per core at a time). Each ends
// once `sync` has returned, as every measured build does.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { debUrls } from "./debs";
import { emptyPackageCaches, type Forest } from "./forests";
import { fmt, settle } from "./measure";
import type { Floor } from "./results";
import { upSequence } from "./samples";

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-3000)));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.slice(0, 2).join(" ")} exited ${code}\n${stderr}`))));
  });
}

/** Run `each` on every item, `width` at a time. */
async function pool<T>(items: T[], width: number, each: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.max(1, width) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await each(item);
  }));
}

/** Seconds of `work` and the flush after it, started once earlier writes reached the disk. */
async function timedWithFlush(label: string, work: () => Promise<void>): Promise<number> {
  await settle(label);
  const started = Date.now();
  await work();
  spawnSync("sync");
  return (Date.now() - started) / 1000;
}

async function floorOf(forest: Forest, root: any): Promise<Floor> {
  const cache = emptyPackageCaches();
  const [downloaded, unpacked] = ["download", "unpack"].map((w) => fs.mkdtempSync(path.join(os.tmpdir(), `vm-images-bench-floor-${w}-`)));
  try {
    console.error(`bench: ${forest.name}: floor of ${root.name}: its packages (a build of it alone with empty package caches, untimed)`);
    await upSequence({ id: "direct (untimed: the floor's packages)", tool: "direct", accel: "none" }, { ...forest, images: [root] }, { VM_IMAGES_CACHE_DIR: cache }, false);
    const debs = fs.readdirSync(path.join(cache, "debs")).filter((f) => f.endsWith(".deb")).sort();
    const listsDir = path.join(cache, "apt-lists");
    const lists = fs.readdirSync(listsDir).filter((f) => f.endsWith("_Packages")).map((file) => ({ file, text: fs.readFileSync(path.join(listsDir, file), "utf8") }));
    const urls = debUrls(debs, lists);
    const config = path.join(cache, "floor-curl.conf");
    fs.writeFileSync(config, debs.map((d) => `url = "${urls.get(d)}"\noutput = "${path.join(downloaded, d)}"\n`).join(""));
    const downloadSeconds = await timedWithFlush(`${forest.name}: floor of ${root.name}: download`, () =>
      run("curl", ["--parallel", "--parallel-max", "8", "--fail", "--silent", "--show-error", "--config", config]));
    const bytes = debs.reduce((sum, d) => sum + fs.statSync(path.join(downloaded, d)).size, 0);
    const unpackSeconds = await timedWithFlush(`${forest.name}: floor of ${root.name}: unpack`, () =>
      pool(debs, os.cpus().length, (d) => run("dpkg-deb", ["-x", path.join(downloaded, d), unpacked])));
    console.error(`bench: ${forest.name}: floor of ${root.name}: ${debs.length} .debs, ${fmt(bytes / 2 ** 20)} MiB: download ${fmt(downloadSeconds)} s, unpack ${fmt(unpackSeconds)} s`);
    return { image: root.name, debs: debs.length, bytes, downloadSeconds, unpackSeconds };
  } finally {
    for (const dir of [cache, downloaded, unpacked]) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The floor of each root image of the forest. */
export async function measureFloors(forest: Forest): Promise<Floor[]> {
  const floors: Floor[] = [];
  for (const root of forest.images.filter((i) => !i.parent)) floors.push(await floorOf(forest, root));
  return floors;
}
