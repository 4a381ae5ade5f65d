// lvh's command line, `npm run lvh -- images build|pull ...`, read into what
// to do. Pure (the environment is passed in), so every accepted spelling and
// every refusal is tested without the Pulumi CLI. The spellings are lvh's
// own (cobra's flags): `--flag value` or `--flag=value`, and a boolean flag
// alone or as `--flag=true` / `--flag=false`.

export const USAGE = `usage: npm run lvh -- images build [flags]

  --dir DIR          lvh's data directory: images from DIR/images.json, built into DIR/images
                     (saved in the stack's config; without it the stack's config is used)
  --image NAME       build NAME, the images it derives from and the images derived from it
  --force-rebuild    rebuild the images even if they are up to date (with --image: that one)
  --dry-run          show what would be built and why (pulumi preview --diff); build nothing
  --merge-steps[=B]  merge virt-customize steps (true or false; saved in the stack's config)
  --pkg-repo SUITE   Debian suite of root images (saved in the stack's config)
  --arch ARCH        Debian architecture of the images: amd64 (default), arm64, ... (saved in the
                     stack's config); with --dir, another architecture's images go to DIR/images-ARCH
  --stack NAME       the Pulumi stack (default: lvh with --dir, lvh-ARCH for another architecture,
                     else $VM_IMAGES_STACK or dev)
  --cwd DIR          the Pulumi project (default: this repository)

usage: npm run lvh -- images pull REF --dir DIR [--cache] [--flatten] [--platform OS/ARCH]

  REF                a published lvh image, such as quay.io/lvh-images/kind:6.6-main
  --dir DIR          the images land in DIR/images, decompressed (an overlay with its parents)
  --flatten          an overlay becomes a standalone file, as lvh expects (no backing file)
  --cache            keep each DIR/images/<image>.zst too
  --platform P       os/arch[/variant] or arch to pull, such as linux/arm64: a multi-platform
                     image's entry for it; another platform's image is refused (default: the host's)
  --insecure         plain HTTP or unverified TLS for a registry not on loopback

usage: npm run lvh -- images verify --dir DIR --registry REPO [--image NAME] [flags]
       npm run lvh -- images verify --stack NAME [--image NAME] [flags]

  --dir DIR          the images of DIR/images.json; an unchanged local copy in DIR/images is used
  --registry REPO    the repository they are published to, tagged by build key (vm-images:registry)
  --stack NAME       every setting from the stack's config (a flag given overrides its setting)
  --cwd DIR          the Pulumi project of --stack (default: this repository)
  --image NAME       verify NAME only (default: every image, parents first)
  --pkg-repo SUITE   Debian suite of root images, as the stack that published them had it
  --mirror URL       Debian mirror, as the stack that published them had it
  --backend B        auto, direct or guestfs, as the stack that published them had it
  --max-diffs N      name at most N differing files of an image (default 20)
  --insecure         plain HTTP or unverified TLS for a registry not on loopback
  --verbose          every line of the rebuild on stderr`;

/** A command line that cannot be carried out: shown with the usage, exit code 2. */
export class UsageError extends Error {}

/** `images build`: its flags, paths as given (resolved by the caller against where npm was run). */
export interface BuildOptions {
  command: "build";
  stack: string;
  dir?: string;
  image?: string;
  cwd?: string;
  /** --pkg-repo: the Debian suite of root images. */
  suite?: string;
  /** --arch: the Debian architecture of the images. */
  arch?: string;
  mergeSteps?: boolean;
  forceRebuild: boolean;
  dryRun: boolean;
}

/** `images pull REF --dir D`. */
export interface PullOptions {
  command: "pull";
  ref: string;
  dir: string;
  platform?: string;
  cache: boolean;
  /** Overlays made standalone files. */
  flatten: boolean;
  insecure: boolean;
}

/** `images verify --dir D --registry REPO`: rebuild published images and compare. */
export interface VerifyOptions {
  command: "verify";
  /** Without --stack, --dir and --registry are required. */
  dir?: string;
  registry?: string;
  stack?: string;
  cwd?: string;
  image?: string;
  suite?: string;
  mirror?: string;
  backend?: string;
  maxDiffs: number;
  insecure: boolean;
  verbose: boolean;
}

export type LvhCommand = BuildOptions | PullOptions | VerifyOptions | { command: "help" };

/** The environment the defaults come from. */
export interface LvhEnv {
  VM_IMAGES_STACK?: string;
}

/** What `argv` (the arguments after `npm run lvh --`) asks for; throws a UsageError. */
export function parseLvhArgs(argv: readonly string[], env: LvhEnv): LvhCommand {
  if (argv[0] === "images" && argv[1] === "pull") return parsePull(argv.slice(2));
  if (argv[0] === "images" && argv[1] === "verify") return parseVerify(argv.slice(2));
  // `images` and `build` may be left out: the build is what this command is for.
  const args = [...argv];
  if (args[0] === "images") args.shift();
  if (args[0] === "build") args.shift();
  return parseBuild(args, env);
}

function parseBuild(argv: string[], env: LvhEnv): BuildOptions | { command: "help" } {
  const args = new Flags(argv);
  const opts: Omit<BuildOptions, "stack"> & { stack?: string } = { command: "build", forceRebuild: false, dryRun: false };
  for (let f = args.next(); f; f = args.next()) {
    switch (f.flag) {
      case "--dir": opts.dir = args.value(f); break;
      case "--image": opts.image = args.value(f); break;
      case "--stack": opts.stack = args.value(f); break;
      case "--cwd": opts.cwd = args.value(f); break;
      case "--pkg-repo": opts.suite = args.value(f); break;
      case "--arch": opts.arch = args.value(f); break;
      case "--force-rebuild": opts.forceRebuild = boolean(f); break;
      case "--dry-run": opts.dryRun = boolean(f); break;
      case "--merge-steps": opts.mergeSteps = boolean(f); break;
      case "-h": case "--help": return { command: "help" };
      default: throw unknown(f);
    }
  }
  // Built from an lvh data directory, the images get a stack of their own,
  // so that they never replace the images of the shipped stacks.
  // Another architecture's images of the same directory, a stack of their own too.
  const foreign = opts.arch !== undefined && opts.arch !== "amd64" ? `-${opts.arch}` : "";
  const stack = opts.stack ?? (opts.dir !== undefined ? `lvh${foreign}` : env.VM_IMAGES_STACK || "dev");
  return { ...opts, stack };
}

function parsePull(argv: string[]): PullOptions {
  const args = new Flags(argv);
  const opts: Partial<PullOptions> = { cache: false, flatten: false, insecure: false };
  for (let f = args.next(); f; f = args.next()) {
    switch (f.flag) {
      case "--dir": opts.dir = args.value(f); break;
      case "--platform": opts.platform = args.value(f); break;
      case "--cache": opts.cache = boolean(f); break;
      case "--flatten": opts.flatten = boolean(f); break;
      case "--insecure": opts.insecure = boolean(f); break;
      default:
        if (f.arg.startsWith("-") || opts.ref !== undefined) throw unknown(f);
        opts.ref = f.arg;
    }
  }
  if (opts.ref === undefined) throw new UsageError("images pull needs a reference, such as quay.io/lvh-images/kind:6.6-main");
  if (opts.dir === undefined) throw new UsageError("images pull needs --dir");
  return { command: "pull", ref: opts.ref, dir: opts.dir, platform: opts.platform, cache: opts.cache!, flatten: opts.flatten!, insecure: opts.insecure! };
}

function parseVerify(argv: string[]): VerifyOptions | { command: "help" } {
  const args = new Flags(argv);
  const opts: Partial<VerifyOptions> = { maxDiffs: 20, insecure: false, verbose: false };
  for (let f = args.next(); f; f = args.next()) {
    switch (f.flag) {
      case "--dir": opts.dir = args.value(f); break;
      case "--registry": opts.registry = args.value(f); break;
      case "--stack": opts.stack = args.value(f); break;
      case "--cwd": opts.cwd = args.value(f); break;
      case "--image": opts.image = args.value(f); break;
      case "--pkg-repo": opts.suite = args.value(f); break;
      case "--mirror": opts.mirror = args.value(f); break;
      case "--backend": opts.backend = args.value(f); break;
      case "--max-diffs": {
        const v = args.value(f);
        if (!/^[1-9][0-9]{0,5}$/.test(v)) throw new UsageError(`--max-diffs is a positive number, not ${JSON.stringify(v)}`);
        opts.maxDiffs = Number(v);
        break;
      }
      case "--insecure": opts.insecure = boolean(f); break;
      case "--verbose": opts.verbose = boolean(f); break;
      case "-h": case "--help": return { command: "help" };
      default: throw unknown(f);
    }
  }
  if (opts.cwd !== undefined && opts.stack === undefined) throw new UsageError("--cwd is the project of --stack: give --stack too");
  if (opts.stack === undefined) {
    if (opts.dir === undefined) throw new UsageError("images verify needs --dir, the directory of images.json (or --stack)");
    if (opts.registry === undefined) throw new UsageError("images verify needs --registry, the repository the images are published to (or --stack)");
  }
  return { ...opts, command: "verify" } as VerifyOptions;
}

/** One argument: `--flag=value` split at its first `=`. */
interface Arg {
  arg: string;
  flag: string;
  inline?: string;
}

/** The arguments, taken one by one; a flag's value is the next one unless given inline. */
class Flags {
  private readonly rest: string[];

  constructor(argv: readonly string[]) {
    this.rest = [...argv];
  }

  next(): Arg | undefined {
    const arg = this.rest.shift();
    if (arg === undefined) return undefined;
    const eq = arg.indexOf("=");
    return eq < 0 ? { arg, flag: arg } : { arg, flag: arg.slice(0, eq), inline: arg.slice(eq + 1) };
  }

  /** The flag's value; another flag in its place means it was left out. */
  value(f: Arg): string {
    const v = f.inline ?? this.rest.shift();
    if (v === undefined || v === "" || v.startsWith("--")) throw new UsageError(`${f.flag} needs a value`);
    return v;
  }
}

function boolean(f: Arg): boolean {
  if (f.inline === undefined || f.inline === "true") return true;
  if (f.inline === "false") return false;
  throw new UsageError(`${f.flag} is true or false`);
}

const unknown = (f: Arg) => new UsageError(`unknown argument ${JSON.stringify(f.arg)}`);
