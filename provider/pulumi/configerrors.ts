// Configuration errors shown the way Pulumi shows a program's errors: one
// `error:` per problem in the CLI's diagnostics, no stack trace, no colour
// codes, and preview or up ending non-zero before anything is registered.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, ConfigErrors } from "../model/config";

/**
 * Run `read` (reading a stack's settings, an images file); if it throws a
 * ConfigError, log each of its problems as an error and end the program with
 * a RunError, which the SDK reports by its message alone. Any other error
 * passes through: it is a bug, and its stack trace helps.
 *
 * @example
 * const forest = reportConfigErrors(() => new ImageForest("images", { imagesFile: "images.json", dir: "images" }));
 */
export function reportConfigErrors<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const messages = err instanceof ConfigErrors ? err.messages() : [err.message];
    for (const message of messages) void pulumi.log.error(message);
    const count = messages.length === 1 ? "a problem" : `${messages.length} problems`;
    throw new pulumi.RunError(`the configuration has ${count} (above); nothing was changed`);
  }
}
