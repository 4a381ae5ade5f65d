// A root's packages stage in the per-user cache: its disk as it is after
// package installation (mmdebstrap), before the actions, keyed by what
// decides it (model/rootstage.ts). A build of the same root whose actions
// alone changed starts from it, but only while the mirror still serves the
// package indices it was resolved from, in every suite it used.
import * as fs from "node:fs";
import { rootStageKey, type StageIndex } from "../../model/rootstage";
import { splitUrlCredentials } from "../../model/urlcredentials";
import type { BuildContext } from "../run/steps";
import { FileCache } from "./filecache";
import { readStageIndexes, staleIndex } from "./rootstage";

export interface StageInputs {
  /** The Debian architecture: unset or amd64 keeps the keys stages had before the setting. */
  arch?: string;
  suite: string;
  mirror?: string;
  packages: string[];
  bootable: boolean;
  bytes: number;
  /** A UEFI-bootable root's file system UUID, which its fstab names; unset for others. */
  rootUuid?: string;
}

const opts = (ctx: BuildContext) => ({ log: ctx.log, label: `${ctx.image} cache`, signal: ctx.signal });

/** One root build's packages stage: looked up before mmdebstrap, kept after it. */
export class PackagesStage {
  readonly id: string;

  private constructor(private readonly files: FileCache, private readonly mirror: string | undefined, inputs: StageInputs) {
    const mirrorUrl = inputs.mirror ? splitUrlCredentials(inputs.mirror).url : undefined;
    this.id = `root-${rootStageKey({ ...inputs, mirror: mirrorUrl })}.raw`;
  }

  /** The stage of a root build, or undefined without a usable cache directory. */
  static of(cacheDir: string, inputs: StageInputs): PackagesStage | undefined {
    const files = FileCache.of(cacheDir);
    return files && new PackagesStage(files, inputs.mirror, inputs);
  }

  /** Copy the cached stage to `disk`; false (and no disk) when there is none, or none still valid. */
  async takeInto(disk: string, ctx: BuildContext): Promise<boolean> {
    const facts = this.files.lookup(this.id);
    if (!facts) return this.say(ctx, `not in the cache (${this.id})`, false);
    const stale = typeof facts.indexes === "string"
      ? await staleIndex(JSON.parse(facts.indexes) as StageIndex[], this.mirror, ctx.signal)
      : "it records no package indices";
    if (stale) return this.say(ctx, `not used (${stale}): ${this.id}`, false);
    let taken = await this.files.take(this.id, disk, "copy", opts(ctx));
    // Another build may have stored the stage anew meanwhile: only the one checked is used.
    if (taken && this.files.lookup(this.id)?.indexes !== facts.indexes) {
      fs.rmSync(disk, { force: true });
      taken = false;
    }
    return this.say(ctx, taken ? `from the cache (${this.id}), no mmdebstrap` : `not in the cache (${this.id})`, taken);
  }

  /**
   * Keep `disk` as the stage, with the package indices its apt read (copied
   * to `sourcesDir` by mmdebstrap-hook.sh stage-sources); a failure to is a
   * warning. A copy (sparse, a reflink where the file system has them): the
   * build goes on writing to its disk.
   */
  async keep(disk: string, sourcesDir: string, ctx: BuildContext): Promise<void> {
    const resolved = readStageIndexes(sourcesDir);
    if (!resolved.indexes) return ctx.log.line(ctx.image, `packages stage not cached: ${resolved.reason}`);
    try {
      await this.files.store(this.id, disk, "copy", { indexes: JSON.stringify(resolved.indexes) }, opts(ctx));
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      ctx.log.line(ctx.image, `warning: packages stage not cached: ${(err as Error).message}`);
    }
  }

  private say(ctx: BuildContext, what: string, result: boolean): boolean {
    ctx.log.line(ctx.image, `packages stage: ${what}`);
    return result;
  }
}
