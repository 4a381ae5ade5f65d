// `npm run lvh -- images verify --dir D --registry REPO [--image NAME]` (or
// `--stack S`, with every setting from the stack's config): each image of
// D/images.json (parents first) that REPO holds under its
// build key is rebuilt from the same inputs in a temporary directory and
// compared with the published bytes: "reproduced NAME sha256:..." or a
// mismatch with the first files that differ. Exit code 1 if any image was
// not reproduced or could not be verified.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { guestfsEnvironment } from "../provider/builder/boot/accel";
import { cacheDir } from "../provider/builder/cache/dirs";
import { publishedDigest, type RegistryRequest, verifyImage } from "../provider/builder/image/verify";
import { registrySession } from "../provider/builder/oci/crane";
import { hostFacts } from "../provider/builder/run/host";
import { interruptible } from "../provider/builder/run/interrupt";
import { fileLogger, type Logger, memoryLogger, toStderr } from "../provider/builder/run/log";
import { type CheckedImageInputs, checkImageInputs, type ImageInputs } from "../provider/model/check";
import { ConfigErrors } from "../provider/model/config";
import { Forest } from "../provider/model/forest";
import { loadLvhImagesFile } from "../provider/model/imagesfile";
import { settingOf, settingsWhere } from "../provider/model/settings";
import { parseStackConfig, type StackSettings } from "../provider/model/stackconfig";
import { PACKAGE_ROOT } from "../provider/builder/run/packageroot";
import { UsageError, type VerifyOptions } from "./lvhargs";
import { pulumi } from "./pulumicli";

const IMAGE_SETTINGS = settingsWhere({ image: ["required", "defaulted", "given"] });

/** The `vm-images:` settings of a stack's config, with the project they are relative to. */
function stackConfig(stack: string, cwd: string | undefined, where: string): { project: string; config: Record<string, string> } {
  const project = cwd !== undefined ? path.resolve(where, cwd) : PACKAGE_ROOT;
  const r = pulumi(["config", "--stack", stack, "--json", "--non-interactive"], { cwd: project, output: "quiet" });
  if (r.status !== 0) throw new UsageError(`--stack ${stack}: pulumi config failed in ${project}: ${(r.stderr || r.stdout).trim()}`);
  const entries = Object.entries(JSON.parse(r.stdout || "{}") as Record<string, { value?: unknown; secret?: boolean }>);
  const secret = entries.filter(([k, v]) => k.startsWith("vm-images:") && v.secret).map(([k]) => k);
  if (secret.length) throw new UsageError(`--stack ${stack}: ${secret.join(", ")} is a secret, which verify does not read; give it with its flag (--mirror)`);
  return { project, config: Object.fromEntries(entries.filter(([k]) => k.startsWith("vm-images:")).map(([k, v]) => [k, String(v.value)])) };
}

/**
 * The settings of the stack (--stack) with those the flags give over them,
 * read as a stack's config is: the same defaults and the same refusals.
 */
function settingsOf(opts: VerifyOptions, where: string): StackSettings {
  const stack = opts.stack !== undefined ? stackConfig(opts.stack, opts.cwd, where) : { project: where, config: {} };
  const dir = opts.dir !== undefined ? path.resolve(where, opts.dir) : undefined;
  if (dir !== undefined && !fs.existsSync(path.join(dir, "images.json"))) throw new UsageError(`--dir ${opts.dir}: ${path.join(dir, "images.json")} does not exist`);
  const config: Record<string, string> = {
    ...stack.config,
    ...(dir !== undefined ? { "vm-images:imagesFile": path.join(dir, "images.json"), "vm-images:dir": path.join(dir, "images") } : {}),
    ...(opts.registry !== undefined ? { "vm-images:registry": opts.registry } : {}),
    ...(opts.suite !== undefined ? { "vm-images:suite": opts.suite } : {}),
    ...(opts.mirror !== undefined ? { "vm-images:mirror": opts.mirror } : {}),
    ...(opts.backend !== undefined ? { "vm-images:backend": opts.backend } : {}),
    ...(opts.insecure ? { "vm-images:insecureRegistry": "true" } : {}),
  };
  let settings: StackSettings;
  try {
    settings = parseStackConfig(config, stack.project);
  } catch (err) {
    const problems = err instanceof ConfigErrors ? err.problems : [err as Error];
    throw new UsageError(problems.map((p) => p.message.replace(/vm-images:(\w+)/g, (m, key: string) => FLAG_OF[key] ?? m)).join("\n"));
  }
  if (settings.registry === undefined) throw new UsageError(`--stack ${opts.stack}: the stack has no vm-images:registry; give --registry`);
  return settings;
}

const FLAG_OF: Record<string, string> = { registry: "--registry", suite: "--pkg-repo", mirror: "--mirror", backend: "--backend", insecureRegistry: "--insecure" };

/**
 * An image's checked inputs (its build key among them), as a stack with
 * these settings computes them: a derived image's key takes its parent's
 * content digest, here the published parent's (`parentDigest`). Each once.
 */
function forestInputs(forest: Forest, settings: StackSettings, baseDir: string, parentDigest: (parent: string, buildKey: string) => Promise<string>) {
  const host = hostFacts();
  const shared = Object.fromEntries(IMAGE_SETTINGS.map((name) => {
    const s = settingOf(name);
    return [name, (settings as unknown as Record<string, unknown>)[name] ?? (s.image === "defaulted" ? s.default : undefined)];
  }));
  const checked = new Map<string, Promise<CheckedImageInputs>>();
  const inputsOf = (name: string): Promise<CheckedImageInputs> => {
    let known = checked.get(name);
    if (!known) {
      known = (async () => {
        const cfg = forest.get(name);
        const parent = forest.inForestParent(name);
        const parentKey = parent === undefined ? undefined : (await inputsOf(parent)).buildKey;
        const news = {
          ...shared, baseDir, name, parent: cfg.parent, size: cfg.size, bootable: cfg.bootable, packages: cfg.packages, actions: cfg.actions,
          parentBuildKey: parentKey, parentDigest: parent === undefined ? undefined : await parentDigest(parent, parentKey!),
        } as ImageInputs;
        const outcome = await checkImageInputs(news, host);
        if (!outcome.ok) throw new UsageError(outcome.failures.map((f) => f.reason).join("\n"));
        return { ...outcome.inputs, rebuildReasons: [] };
      })();
      checked.set(name, known);
    }
    return known;
  };
  return inputsOf;
}

/** Verify as `opts` says (a relative --dir is taken from `where`); resolves with the exit code. */
export async function runVerify(opts: VerifyOptions, where: string): Promise<number> {
  const settings = settingsOf(opts, where);
  const forest = Forest.of(loadLvhImagesFile(settings.imagesFile));
  if (opts.image !== undefined && !forest.has(opts.image)) {
    throw new UsageError(`--image ${opts.image}: no such image in ${settings.imagesFile}; the images are ${forest.names().join(", ")}`);
  }
  const names = opts.image !== undefined ? [opts.image] : forest.buildOrder();
  // Relative local paths of actions resolve against the images file's directory, as lvh and a stack resolve them.
  const baseDir = path.dirname(settings.imagesFile);
  // Bad input is a usage error before anything is fetched: every image checked, its parent's digest a stand-in.
  const check = forestInputs(forest, settings, baseDir, async () => `sha256:${"0".repeat(64)}`);
  for (const name of forest.buildOrder()) await check(name);
  // Then for real: a derived image keyed by its published parent's digest (the verified parent's, when it was).
  const digests = new Map<string, string>();
  let current: RegistryRequest | undefined;
  const inputsOf = forestInputs(forest, settings, baseDir, async (parent, key) => digests.get(parent) ?? publishedDigest(current!, parent, key));
  // A rebuild that reads nothing a build before it left: no packages stage (the image cache is never asked).
  process.env.VM_IMAGES_CACHE_MAX = "0";
  const log: Logger = { file: "(stderr)", line: (label, text) => console.error(`${label} | ${text}`), close: async () => {} };
  // Every tool line goes to a log of its own (and to stderr with --verbose), kept when an image was not reproduced.
  const toolsFile = path.join(os.tmpdir(), `vm-images-verify-${process.pid}.log`);
  const tools = fileLogger(toolsFile, opts.verbose ? toStderr : undefined);
  const session = registrySession();
  let failed = 0;
  // An interrupt ends the process once the builds have stopped, or a few
  // seconds later: the temporary directory and the tools' log go either way.
  let work: string | undefined;
  const removeWork = () => work && fs.rmSync(work, { recursive: true, force: true });
  const onExit = () => {
    removeWork();
    fs.rmSync(toolsFile, { force: true });
  };
  process.on("exit", onExit);
  try {
    await interruptible(async (signal) => {
      const cache = cacheDir();
      const accel = await guestfsEnvironment(cache, memoryLogger(), signal);
      for (const name of names) {
        const here = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-verify-"));
        work = here;
        try {
          current = {
            registry: settings.registry!, insecure: settings.insecureRegistry, localDir: settings.dir, work: here, session, signal,
            log, tools, guestfsEnv: accel.env, cacheDir: cache, maxDifferences: opts.maxDiffs, arch: settings.arch,
          };
          const r = await verifyImage({ ...current, inputs: await inputsOf(name) });
          digests.set(name, r.publishedDigest);
          if (r.reproduced) {
            console.log(`reproduced ${name} ${r.rebuiltDigest} (${r.published})`);
          } else {
            failed++;
            console.log(`mismatch ${name}: the published ${r.published} is ${r.publishedDigest}, the rebuild is ${r.rebuiltDigest}`);
            for (const line of r.differences) console.log(line);
          }
        } catch (err) {
          if (signal.aborted) throw err;
          failed++;
          // The rebuild's log goes with its directory: the tools' log has its lines.
          const msg = session.redact((err as Error).message).split(path.join(here, "rebuilt", `${name}.log`)).join(toolsFile);
          console.error(`lvh: ${name}: not verified: ${msg}`);
        } finally {
          removeWork();
          work = undefined;
        }
      }
    });
  } catch (err) {
    // Interrupted: nothing of it stays.
    onExit();
    throw err;
  } finally {
    session.close();
    process.off("exit", onExit);
    await tools.close();
  }
  if (names.length > 1) console.log(`lvh: ${names.length - failed} of ${names.length} images reproduced`);
  if (!failed) fs.rmSync(toolsFile, { force: true });
  else console.error(`lvh: every line of the tools it ran: ${toolsFile}`);
  return failed ? 1 : 0;
}
