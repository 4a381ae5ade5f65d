// reportConfigErrors: a ConfigError becomes one logged error per problem and
// a RunError (shown without a stack); any other error passes through.
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { ConfigError, ConfigErrors } from "../../provider/model/config";
import { reportConfigErrors } from "../../provider/pulumi/configerrors";

/** Run `fn` with console.error (where pulumi.log.error writes without an engine) captured. */
function capturingErrors(fn: () => void): { logged: string[]; thrown: unknown } {
  const logged: string[] = [];
  const original = console.error;
  console.error = (line: string) => logged.push(line);
  try {
    fn();
    return { logged, thrown: undefined };
  } catch (err) {
    return { logged, thrown: err };
  } finally {
    console.error = original;
  }
}

describe("reportConfigErrors", () => {
  it("logs each problem, then ends the program with a RunError that counts them", () => {
    const { logged, thrown } = capturingErrors(() => reportConfigErrors(() => {
      throw new ConfigErrors("images.json", [new ConfigError("a.img", "name", "duplicate image name"), new ConfigError(undefined, "", "x")]);
    }));
    expect(logged).to.deep.equal([
      'error: [runtime] images.json: image "a.img": name: duplicate image name',
      "error: [runtime] images.json: x",
    ]);
    expect(pulumi.RunError.isInstance(thrown)).to.equal(true);
    expect((thrown as Error).message).to.equal("the configuration has 2 problems (above); nothing was changed");
  });

  it("passes any other error through, and a value when there is none", () => {
    const bug = new TypeError("a bug");
    expect(capturingErrors(() => reportConfigErrors(() => { throw bug; })).thrown).to.equal(bug);
    expect(reportConfigErrors(() => 42)).to.equal(42);
  });
});
