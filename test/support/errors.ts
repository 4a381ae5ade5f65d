// The message of the ConfigError a call throws; fails the test if it throws none or another error.
import { expect } from "chai";
import { ConfigError } from "../../provider/model/config";

export function configErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}
