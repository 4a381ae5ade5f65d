// `npm run lvh -- images build [flags]`: lvh's build flags carried out by
// Pulumi on a stack. --dir, --pkg-repo, --arch and --merge-steps are saved in the
// stack's config (lvh reads them on every run; a stack keeps them), the rest
// become arguments of one `pulumi up`, printed so that it can be run directly.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Forest } from "../provider/model/forest";
import { loadLvhImagesFile } from "../provider/model/imagesfile";
import { parseStackConfig } from "../provider/model/stackconfig";
import { type BuildOptions, UsageError } from "./lvhargs";
import { lvhPulumiCommand, shellWords } from "./lvhcommand";
import { mustPulumi, pulumi } from "./pulumicli";

/**
 * Build as `opts` says, in the Pulumi project `project`; relative paths of
 * the command line are taken from `where`. Returns the exit code of the
 * pulumi command; a failing step before it exits with that step's code.
 */
export function runBuild(opts: BuildOptions, project: string, where: string): number {
  const { stack } = opts;
  const quiet = (args: string[]) => mustPulumi(args, { cwd: project, output: "quiet" });
  quiet(["stack", "select", stack, "--create", "--non-interactive"]);
  const settings = stackSettings(opts, project, where);

  // A dry run changes nothing, the stack's config included: it previews with a copy.
  let configFile: string[] = [];
  let scratch: string | undefined;
  if (opts.dryRun && Object.keys(settings).length) {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-lvh-"));
    const copy = path.join(scratch, `Pulumi.${stack}.yaml`);
    const own = path.join(project, `Pulumi.${stack}.yaml`);
    fs.writeFileSync(copy, fs.existsSync(own) ? fs.readFileSync(own) : "");
    configFile = ["--config-file", copy];
  }
  try {
    for (const [key, value] of Object.entries(settings)) quiet(["config", "set", "--stack", stack, ...configFile, key, value]);
    const config = JSON.parse(quiet(["config", "--stack", stack, ...configFile, "--json"]) || "{}") as Record<string, { value: unknown }>;
    const values = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v.value)]));
    const { imagesFile } = parseStackConfig(values, project);
    const forest = Forest.of(loadLvhImagesFile(imagesFile));
    const command = lvhPulumiCommand(opts, forest, { project: projectName(project), imagesFile, configFile });
    console.log(`lvh: pulumi ${shellWords(command)}`);
    return pulumi([...command, "--non-interactive"], { cwd: project }).status;
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The stack config keys the flags set, with their values. */
function stackSettings(opts: BuildOptions, project: string, where: string): Record<string, string> {
  const settings: Record<string, string> = {};
  if (opts.dir !== undefined) {
    const dir = path.resolve(where, opts.dir);
    const imagesFile = path.join(dir, "images.json");
    if (!fs.existsSync(imagesFile)) throw new UsageError(`--dir ${opts.dir}: ${imagesFile} does not exist`);
    settings["vm-images:imagesFile"] = configPath(project, imagesFile);
    // Another architecture's images beside the amd64 ones, never over them.
    const images = opts.arch !== undefined && opts.arch !== "amd64" ? `images-${opts.arch}` : "images";
    settings["vm-images:dir"] = configPath(project, path.join(dir, images));
  }
  if (opts.suite !== undefined) settings["vm-images:suite"] = opts.suite;
  if (opts.arch !== undefined) settings["vm-images:arch"] = opts.arch;
  if (opts.mergeSteps !== undefined) settings["vm-images:mergeSteps"] = String(opts.mergeSteps);
  return settings;
}

/** A path for the stack config: relative to the project when inside it, so the project can move. */
function configPath(project: string, p: string): string {
  const rel = path.relative(project, p);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : p;
}

/** The project's name, from its Pulumi.yaml. */
function projectName(project: string): string {
  const file = path.join(project, "Pulumi.yaml");
  const name = /^name:\s*(\S+)/m.exec(fs.readFileSync(file, "utf8"))?.[1];
  if (name === undefined) throw new Error(`${file} has no name: line; give the project a name`);
  return name;
}
