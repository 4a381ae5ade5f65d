// lvh's command line as `npm run lvh` reads it: every accepted spelling of
// `images build`, `images pull` and `images verify`, the stack each build goes to, and the
// message each bad command line gets (all shown with the usage, exit 2).
import { expect } from "chai";
import { type LvhCommand, parseLvhArgs, UsageError } from "../../cli/lvhargs";

const build = (extra: object = {}): LvhCommand => ({ command: "build", stack: "dev", forceRebuild: false, dryRun: false, ...extra });
const verify = (extra: object = {}): LvhCommand => ({ command: "verify", dir: "d", registry: "r.example/team/images", maxDiffs: 20, insecure: false, verbose: false, ...extra });
const pull = (extra: object = {}): LvhCommand => ({ command: "pull", ref: "r.example/x:1", dir: "d", platform: undefined, cache: false, flatten: false, insecure: false, ...extra });

describe("lvh's command line", () => {
  const accepted: [string, string[], LvhCommand, Record<string, string>?][] = [
    ["nothing: a build on the default stack", [], build()],
    ["images build", ["images", "build"], build()],
    ["build without images", ["build"], build()],
    ["images without build", ["images", "--dry-run"], build({ dryRun: true })],
    ["$VM_IMAGES_STACK as the default stack", ["images", "build"], build({ stack: "ci" }), { VM_IMAGES_STACK: "ci" }],
    ["--dir: stack lvh", ["images", "build", "--dir", "_data"], build({ dir: "_data", stack: "lvh" })],
    ["--dir=: stack lvh, whatever $VM_IMAGES_STACK", ["images", "build", "--dir=_data"], build({ dir: "_data", stack: "lvh" }), { VM_IMAGES_STACK: "ci" }],
    ["--arch arm64 with --dir: stack lvh-arm64", ["images", "build", "--dir", "_data", "--arch", "arm64"], build({ dir: "_data", arch: "arm64", stack: "lvh-arm64" })],
    ["--arch amd64 with --dir: stack lvh", ["images", "build", "--dir", "_data", "--arch=amd64"], build({ dir: "_data", arch: "amd64", stack: "lvh" })],
    ["--stack over --dir's default", ["images", "build", "--dir", "_data", "--stack=mine"], build({ dir: "_data", stack: "mine" })],
    ["--image and --force-rebuild", ["images", "build", "--image", "k8s.qcow2", "--force-rebuild"], build({ image: "k8s.qcow2", forceRebuild: true })],
    ["a value with = in it", ["images", "build", "--cwd=/p/a=b"], build({ cwd: "/p/a=b" })],
    ["a value that starts with one dash", ["images", "build", "--image", "-odd.img"], build({ image: "-odd.img" })],
    ["--pkg-repo: the suite", ["images", "build", "--pkg-repo", "trixie"], build({ suite: "trixie" })],
    ["--merge-steps alone: true", ["images", "build", "--merge-steps"], build({ mergeSteps: true })],
    ["--merge-steps does not take the next argument", ["images", "build", "--merge-steps", "--dry-run"], build({ mergeSteps: true, dryRun: true })],
    ["--merge-steps=false", ["images", "build", "--merge-steps=false"], build({ mergeSteps: false })],
    ["--dry-run=true", ["images", "build", "--dry-run=true"], build({ dryRun: true })],
    ["--force-rebuild=false", ["images", "build", "--force-rebuild=false"], build()],
    ["the last of a repeated flag", ["images", "build", "--image", "a.img", "--image", "b.img"], build({ image: "b.img" })],
    ["--help", ["images", "build", "--dir", "_data", "--help"], { command: "help" }],
    ["-h before a bad argument", ["-h", "--bogus"], { command: "help" }],
    ["pull", ["images", "pull", "r.example/x:1", "--dir", "d"], pull()],
    ["pull, --dir first", ["images", "pull", "--dir=d", "r.example/x:1"], pull()],
    ["pull with --cache, --platform and --insecure", ["images", "pull", "r.example/x:1", "--dir", "d", "--cache", "--platform", "linux/arm64", "--insecure"],
      pull({ cache: true, platform: "linux/arm64", insecure: true })],
    ["pull with --flatten", ["images", "pull", "r.example/x:1", "--dir", "d", "--flatten"], pull({ flatten: true })],
    ["pull with --cache=false", ["images", "pull", "r.example/x:1", "--dir", "d", "--cache=false"], pull()],
    ["verify", ["images", "verify", "--dir", "d", "--registry", "r.example/team/images"], verify()],
    ["verify with every flag", ["images", "verify", "--registry=r.example/team/images", "--dir=d", "--image", "k8s.qcow2", "--pkg-repo", "trixie",
      "--mirror", "http://127.0.0.1:3142/debian", "--backend", "direct", "--max-diffs", "5", "--insecure", "--verbose"],
    verify({ image: "k8s.qcow2", suite: "trixie", mirror: "http://127.0.0.1:3142/debian", backend: "direct", maxDiffs: 5, insecure: true, verbose: true })],
    ["verify --help", ["images", "verify", "--help"], { command: "help" }],
    ["verify --stack alone", ["images", "verify", "--stack", "ci"], { command: "verify", stack: "ci", maxDiffs: 20, insecure: false, verbose: false }],
    ["verify --stack with --cwd and --dir", ["images", "verify", "--stack=ci", "--cwd", "/p", "--dir", "d"],
      { command: "verify", stack: "ci", cwd: "/p", dir: "d", maxDiffs: 20, insecure: false, verbose: false }],
  ];
  for (const [what, argv, expected, env] of accepted) {
    it(`accepts ${what}`, () => expect(parseLvhArgs(argv, env ?? {})).to.deep.equal(expected));
  }

  const refused: [string, string[], string][] = [
    ["an unknown flag", ["images", "build", "--bogus"], 'unknown argument "--bogus"'],
    ["an unknown flag with a value", ["images", "build", "--bogus=1"], 'unknown argument "--bogus=1"'],
    ["a word after the flags", ["images", "build", "--dry-run", "k8s.qcow2"], 'unknown argument "k8s.qcow2"'],
    ["pull without images", ["pull", "r.example/x:1"], 'unknown argument "pull"'],
    ["another images command", ["images", "push"], 'unknown argument "push"'],
    ["--dir last, without a value", ["images", "build", "--dir"], "--dir needs a value"],
    ["--image followed by a flag", ["images", "build", "--image", "--dry-run"], "--image needs a value"],
    ["an empty --stack=", ["images", "build", "--stack="], "--stack needs a value"],
    ["--pkg-repo without a value", ["images", "build", "--pkg-repo"], "--pkg-repo needs a value"],
    ["--merge-steps=yes", ["images", "build", "--merge-steps=yes"], "--merge-steps is true or false"],
    ["--dry-run=1", ["images", "build", "--dry-run=1"], "--dry-run is true or false"],
    ["pull without a reference", ["images", "pull", "--dir", "d"], "images pull needs a reference, such as quay.io/lvh-images/kind:6.6-main"],
    ["pull without --dir", ["images", "pull", "r.example/x:1"], "images pull needs --dir"],
    ["pull with two references", ["images", "pull", "r.example/x:1", "r.example/y:1", "--dir", "d"], 'unknown argument "r.example/y:1"'],
    ["pull with a build flag", ["images", "pull", "r.example/x:1", "--dir", "d", "--dry-run"], 'unknown argument "--dry-run"'],
    ["pull --platform without a value", ["images", "pull", "r.example/x:1", "--dir", "d", "--platform"], "--platform needs a value"],
    ["pull --insecure=no", ["images", "pull", "r.example/x:1", "--dir", "d", "--insecure=no"], "--insecure is true or false"],
    ["verify without --dir", ["images", "verify", "--registry", "r.example/team/images"], "images verify needs --dir, the directory of images.json (or --stack)"],
    ["verify without --registry", ["images", "verify", "--dir", "d"], "images verify needs --registry, the repository the images are published to (or --stack)"],
    ["verify --cwd without --stack", ["images", "verify", "--dir", "d", "--registry", "r.example/x", "--cwd", "/p"], "--cwd is the project of --stack: give --stack too"],
    ["verify with a reference as a word", ["images", "verify", "r.example/team/images:1", "--dir", "d"], 'unknown argument "r.example/team/images:1"'],
    ["verify --max-diffs 0", ["images", "verify", "--dir", "d", "--registry", "r.example/x", "--max-diffs", "0"], '--max-diffs is a positive number, not "0"'],
    ["verify with a build flag", ["images", "verify", "--dir", "d", "--registry", "r.example/x", "--dry-run"], 'unknown argument "--dry-run"'],
  ];
  for (const [what, argv, message] of refused) {
    it(`refuses ${what}`, () => {
      expect(() => parseLvhArgs(argv, {})).to.throw(UsageError).with.property("message", message);
    });
  }
});
