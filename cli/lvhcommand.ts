// The pulumi command that lvh's build flags become: `up` (`preview --diff`
// with --dry-run), --image as a list of --target, --force-rebuild as
// --replace. Pure: what it targets follows from the forest alone.
import type { Forest } from "../provider/model/forest";
import { forestUrn, imageUrn } from "../provider/model/urns";
import { type BuildOptions, UsageError } from "./lvhargs";

export interface CommandContext {
  /** The Pulumi project's name (Pulumi.yaml), part of every URN. */
  project: string;
  /** The stack's images file, for the error that names the images of an unknown --image. */
  imagesFile: string;
  /** `--config-file COPY` for a dry run that must not touch the stack's own config; else empty. */
  configFile: readonly string[];
}

/** The pulumi arguments (without --non-interactive) that carry out `opts` on `forest`. */
export function lvhPulumiCommand(opts: BuildOptions, forest: Forest, ctx: CommandContext): string[] {
  const { stack } = opts;
  const urn = (name: string) => imageUrn(stack, ctx.project, name);
  const args: string[] = [];
  let images = forest.names();
  if (opts.image !== undefined) {
    if (!forest.has(opts.image)) {
      throw new UsageError(`--image ${opts.image}: no such image in ${ctx.imagesFile}; the images are ${forest.names().join(", ")}`);
    }
    // The image and what it derives from, as lvh builds them, and the
    // images derived from it, so that none is left derived from an old
    // image. (--target-dependents would also take in the images derived
    // from its ancestors: its siblings.)
    const chain = [opts.image, ...forest.dependencies(opts.image).reverse(), ...forest.descendants(opts.image)];
    for (const name of chain) args.push("--target", urn(name));
    args.push("--target", forestUrn(stack, ctx.project));
    images = [opts.image];
  }
  if (opts.forceRebuild) for (const name of images) args.push("--replace", urn(name));
  return opts.dryRun
    ? ["preview", "--diff", "--stack", stack, ...ctx.configFile, ...args]
    : ["up", "--yes", "--stack", stack, ...args];
}

/** A command as a shell would take it back: a word with characters a shell reads is quoted. */
export function shellWords(words: readonly string[]): string {
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`)).join(" ");
}
