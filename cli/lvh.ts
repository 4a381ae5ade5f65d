// `npm run lvh -- images build [flags]`: lvh's image build command line,
// carried out by Pulumi on a stack. Prints the pulumi commands it runs, so
// they can be used directly too. `npm run lvh -- images pull REF --dir D`:
// lvh's pull, without a Docker daemon. `npm run lvh -- images verify --dir D
// --registry REPO`: rebuild published images and compare their bytes. See
// docs/coming-from-lvh.md.
import * as path from "node:path";
import { PACKAGE_ROOT } from "../provider/builder/run/packageroot";
import { type LvhCommand, parseLvhArgs, USAGE, UsageError } from "./lvhargs";
import { runBuild } from "./lvhbuild";
import { runPull } from "./lvhpull";
import { runVerify } from "./lvhverify";

/** Where the user ran `npm run lvh`: npm itself runs us in the package's directory. */
const where = process.env.INIT_CWD || process.cwd();

/** Say what went wrong (with the usage if the command line did) and exit with `code`. */
function fail(err: unknown, code: number): never {
  console.error(`lvh: ${err instanceof Error ? err.message : String(err)}`);
  if (err instanceof UsageError) console.error(`\n${USAGE}`);
  process.exit(code);
}

async function main(): Promise<void> {
  let command: LvhCommand;
  try {
    command = parseLvhArgs(process.argv.slice(2), process.env);
  } catch (err) {
    fail(err, 2);
  }
  switch (command.command) {
    case "help":
      console.log(USAGE);
      return;
    case "pull":
      await runPull(command, where).catch((err: unknown) => fail(err, 1));
      return;
    case "verify":
      try {
        process.exitCode = await runVerify(command, where);
      } catch (err) {
        fail(err, err instanceof UsageError ? 2 : 1);
      }
      return;
    case "build":
      try {
        process.exitCode = runBuild(command, command.cwd ? path.resolve(where, command.cwd) : PACKAGE_ROOT, where);
      } catch (err) {
        fail(err, 2);
      }
  }
}

void main();
