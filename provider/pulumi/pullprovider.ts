// The PulledImage resource's provider: the reference resolved to a
// manifest digest at `check`, so a moved tag shows in `pulumi preview` as a
// replacement ("REF now points to DIGEST"), and the images derived from its
// files are rebuilt with it; `create` pulls exactly that digest.
import * as fs from "node:fs";
import type * as pulumi from "@pulumi/pulumi";
import { registrySession } from "../builder/oci/crane";
import { hostPlatform, pullImages, resolveDigest } from "../builder/oci/pull";
import { chainPresent } from "../builder/image/layercheck";
import { sweepLayers } from "../builder/image/layers";
import { interruptible } from "../builder/run/interrupt";
import { memoryLogger, stderrLogger } from "../builder/run/log";
import { type FileIdentity, identityOf, sameIdentity } from "../model/identity";
import { parseRef, RefError, registryRefusal } from "../model/oci";
import { CarriedReasons } from "./checktwice";
import { definedOnly } from "./defined";

export interface PullInputs {
  /** The published image, such as quay.io/lvh-images/kind:6.6-main. */
  ref: string;
  /** The images directory the files land in. */
  dir: string;
  /** os/arch[/variant] to pull (an index's entry, or a single-platform image of it). @default the host's */
  platform?: string;
  insecureRegistry?: boolean;
  /** Images the stack builds itself: a pull that holds one of them fails rather than overwrite it. */
  builds?: string[];
  /** Overlays made standalone files (vm-images:flatten). */
  flatten?: boolean;
}

export interface CheckedPullInputs extends PullInputs {
  platform: string;
  /** The manifest digest the reference points to now. */
  digest: string;
  /** Why it would be pulled again, such as "REF now points to DIGEST". */
  pullReasons: string[];
}

export interface PullOutputs extends CheckedPullInputs {
  /** repository@digest. */
  pinned: string;
  /** The images it holds, by file name. */
  images: string[];
  files: Record<string, { path: string; identity: FileIdentity }>;
}

const carried = new CarriedReasons();

async function checkPull(
  news: PullInputs,
  olds?: Partial<CheckedPullInputs>,
): Promise<{ inputs: CheckedPullInputs; failures: { property: string; reason: string }[] }> {
  const fail = (property: string, reason: string) => ({
    inputs: news as CheckedPullInputs, failures: [{ property, reason: `pull ${JSON.stringify(news.ref)}: ${property}: ${reason}` }],
  });
  if (typeof news.dir !== "string" || news.dir === "") return fail("dir", "must be the images directory");
  let host: string;
  try {
    host = parseRef(news.ref).host;
  } catch (err) {
    if (err instanceof RefError) return fail("ref", err.message);
    throw err;
  }
  const refusal = registryRefusal(host, !!news.insecureRegistry);
  if (refusal) return fail("ref", refusal);
  const platform = news.platform ?? hostPlatform();
  const session = registrySession();
  let digest: string;
  try {
    // Quiet: check runs on every preview; a failure says everything in its error.
    digest = await resolveDigest({ ref: news.ref, platform, insecure: news.insecureRegistry, log: memoryLogger(), label: `pull ${news.ref}`, session });
  } catch (err) {
    // Offline, a pulled image stays what it was: the registry decides only when it answers.
    if (olds?.digest && olds.ref === news.ref) {
      process.stderr.write(`pull ${news.ref} | warning: keeping ${olds.digest}: ${(err as Error).message}\n`);
      digest = olds.digest;
    } else {
      return fail("ref", (err as Error).message);
    }
  } finally {
    session.close();
  }
  const pullReasons = carried.reasonsFor(`${news.ref}\0${news.dir}\0${digest}`, !!olds?.digest, () =>
    olds!.digest !== digest && olds!.ref === news.ref ? [`${news.ref} now points to ${digest}`] : []);
  return { inputs: { ...news, platform, digest, pullReasons }, failures: [] };
}

/** The files as pulled, each overlay with the parent layers it reads. */
function filesIntact(olds: PullOutputs): boolean {
  return Object.values(olds.files ?? {}).every((f) => sameIdentity(identityOf(f.path), f.identity) && chainPresent(f.path));
}

function diffPull(olds: PullOutputs, news: CheckedPullInputs): { changes: boolean; replaces: string[] } {
  const replaces: string[] = (["ref", "dir", "platform", "digest"] as const).filter((k) => olds[k] !== news[k]);
  // Flattened or not, the files are others: pulled again.
  if (!!olds.flatten !== !!news.flatten) replaces.push("flatten");
  if (!filesIntact(olds)) replaces.push("images");
  return { changes: replaces.length > 0 || olds.insecureRegistry !== news.insecureRegistry, replaces };
}

function createPull(inputs: CheckedPullInputs): Promise<PullOutputs> {
  return interruptible(async (signal) => {
    const session = registrySession();
    try {
      // Pinned to the digest the check resolved: what preview showed is what lands.
      const ref = `${parseRef(inputs.ref).repository}@${inputs.digest}`;
      const r = await pullImages({
        ref, dir: inputs.dir, platform: inputs.platform, insecure: inputs.insecureRegistry, flatten: inputs.flatten,
        refuse: inputs.builds?.length ? { names: inputs.builds, why: "which the images file builds: remove it from the images file or the pull" } : undefined,
        log: stderrLogger(), label: `pull ${inputs.ref}`, signal, session,
      });
      process.stderr.write(`pull ${inputs.ref} | source: pulled ${r.pinned}: ${r.files.map((f) => f.name).join(", ")}\n`);
      return {
        ...inputs, pinned: r.pinned, images: r.files.map((f) => f.name),
        files: Object.fromEntries(r.files.map((f) => [f.name, { path: f.path, identity: f.identity }])),
      };
    } finally {
      session.close();
    }
  });
}

/** Refresh: a pulled file deleted or changed outside Pulumi reads as gone, so `up` pulls it again. */
function readPull(id: string, props: PullOutputs | undefined): { id?: string; props?: PullOutputs } {
  if (!props) return { id };
  return filesIntact(props) ? { id, props } : {};
}

/** Remove the pulled files that are still the ones this resource pulled, and the layers nothing reads any more. */
function deletePull(props: PullOutputs): void {
  for (const f of Object.values(props.files ?? {})) {
    if (sameIdentity(identityOf(f.path), f.identity)) fs.rmSync(f.path, { force: true });
  }
  sweepLayers(props.dir, stderrLogger(), `pull ${props.ref}`);
}

export const pullProvider: pulumi.dynamic.ResourceProvider<PullInputs, PullOutputs> = {
  check: async (olds, news) => {
    const r = await checkPull(news, olds as Partial<CheckedPullInputs>);
    return { inputs: definedOnly(r.inputs), failures: r.failures };
  },
  diff: async (_id, olds, news) => ({ ...diffPull(olds, news as CheckedPullInputs), deleteBeforeReplace: false }),
  create: async (inputs) => {
    const outs = definedOnly(await createPull(inputs as CheckedPullInputs));
    return { id: outs.ref, outs };
  },
  update: async (_id, olds, news) => ({ outs: definedOnly({ ...olds, ...(news as CheckedPullInputs) }) }),
  read: async (id, props) => readPull(id, props),
  delete: async (_id, props) => deletePull(props),
};
