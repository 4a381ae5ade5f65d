// The Image resource's provider: validation and build keys at `check` (so
// `pulumi preview` fails early and shows what would be rebuilt), builds at
// `create`, and a delete that only removes the file this resource built.
import type * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ImageOutputs } from "../builder/image/outputs";
import { lookUpPublished } from "../builder/image/registry";
import { registrySession } from "../builder/oci/crane";
import { forgetLocalCopy, isLocalCopy } from "../builder/oci/localcopy";
import { hostFacts } from "../builder/run/host";
import { removeImageIfOurs } from "../builder/image/safebuild";
import { followArchive } from "../builder/archive/stale";
import { sbomFileName } from "../model/sbom";
import { sweepLayers } from "../builder/image/layers";
import { type CheckedImageInputs, checkImageInputs, type ImageInputs } from "../model/check";
import { decideImageDiff, inRegistry, PARENT_MAY_CHANGE, type PublishedFacts, rebuildReasons, UNKNOWN, UNREACHABLE } from "../model/diff";
import { canonicalJson } from "../model/hash";
import type { HostFacts } from "../model/host";
import { identityOf, sameIdentity } from "../model/identity";
import { createImage, updateImage } from "../builder/image/create";
import { CarriedReasons } from "./checktwice";
import { definedOnly } from "./defined";
import { cliCadence, engineProgress } from "./enginelog";

/** Where the Node.js SDK keeps a dynamic resource's serialized provider among its inputs. */
const PROVIDER_KEY = "__provider";

const carried = new CarriedReasons();

function reasonsFor(olds: Partial<CheckedImageInputs> | undefined, checked: Omit<CheckedImageInputs, "rebuildReasons">): string[] {
  // The second check, without old inputs, cannot ask the archive: its key leaves that out.
  const key = canonicalJson({ ...checked, [PROVIDER_KEY]: undefined, rebuildReasons: undefined, archiveUpdates: undefined });
  const fallback = checked.parentDigest === UNKNOWN ? [PARENT_MAY_CHANGE] : checked.parentKey === UNKNOWN ? ["parent replaced"] : [];
  return carried.reasonsFor(key, !!olds?.buildKey, () => rebuildReasons(olds!, checked), fallback);
}

export async function checkImage(
  news: ImageInputs,
  olds?: Partial<CheckedImageInputs>,
  host: HostFacts = hostFacts(),
): Promise<pulumi.dynamic.CheckResult<CheckedImageInputs>> {
  const outcome = await checkImageInputs(news, host);
  if (!outcome.ok) return { inputs: news as CheckedImageInputs, failures: outcome.failures };
  let checked: Omit<CheckedImageInputs, "rebuildReasons"> = { ...outcome.inputs, archiveUpdates: undefined };
  // An image built before: has the archive moved under it? (Replaced for another reason too, it says so.)
  if (checked.followArchive === true && olds?.buildKey && olds.dir && olds.name) {
    try {
      // The image built before: where it is, and the build key it was published with.
      const followed = await followArchive({ ...checked, dir: olds.dir, name: olds.name, buildKey: olds.buildKey });
      if (followed.note) await noteOnRow(checked, followed.note);
      checked = { ...checked, archiveUpdates: followed.reason };
    } catch (err) {
      const reason = `image ${JSON.stringify(checked.name)}: followArchive: ${(err as Error).message}`;
      return { inputs: news as CheckedImageInputs, failures: [{ property: "followArchive", reason }] };
    }
  }
  return { inputs: definedOnly({ ...checked, rebuildReasons: reasonsFor(olds, checked) }) };
}

async function noteOnRow(image: { __urn?: string; name: string }, note: string): Promise<void> {
  const progress = engineProgress(image.__urn, image.name);
  progress.note(note, "warning");
  await progress.flush();
}

/** Where the build key's tag points now (one manifest request), for an image in the registry. */
async function currentlyPublished(props: ImageOutputs, registry: string, buildKey: string): Promise<string | undefined | typeof UNREACHABLE> {
  const session = registrySession();
  try {
    return await lookUpPublished(registry, buildKey, props.insecureRegistry, session, `${props.name} registry`);
  } finally {
    session.close();
  }
}

/**
 * With the image in the registry, the registry decides: gone there is a
 * rebuild; this machine's file only decides whether to fetch a copy.
 * Without a registry, the file on disk decides.
 */
export async function diffImage(olds: ImageOutputs, news: CheckedImageInputs): Promise<pulumi.dynamic.DiffResult> {
  let published: PublishedFacts | undefined;
  if (inRegistry(olds, news) && news.buildKey === olds.buildKey) {
    published = {
      current: await currentlyPublished(olds, news.registry!, news.buildKey),
      localCopy: isLocalCopy(path.join(news.dir, news.name), olds.published!),
    };
  }
  const decision = decideImageDiff(olds, news, identityOf(olds.path), published);
  return { changes: decision.changes, replaces: decision.replaces, deleteBeforeReplace: false };
}

/**
 * Refresh: an image file deleted or changed outside Pulumi reads as gone, so
 * the next `up` builds it again. An image in the registry reads as gone only
 * when its build key's tag is gone there, and follows the tag if it moved.
 */
export async function readImage(id: string, props: ImageOutputs | undefined): Promise<pulumi.dynamic.ReadResult<ImageOutputs>> {
  if (!props) return { id };
  if (inRegistry(props, props)) {
    const current = await currentlyPublished(props, props.registry!, props.buildKey);
    if (current === undefined) return {};
    return { id, props: current === UNREACHABLE ? props : { ...props, published: current } };
  }
  return sameIdentity(identityOf(props.path), props.identity) ? { id, props } : {};
}

/**
 * The image files this provider process made: a process serves one
 * operation, so the delete of a replaced image (which comes after its
 * replacement's create) finds the path of the replacement here.
 */
const madeHere = new Set<string>();

/**
 * Delete removes this machine's file only if it is the one this resource
 * built, or an unchanged copy of its published artifact; the registry keeps
 * what was published.
 */
export async function deleteImage(props: ImageOutputs): Promise<void> {
  try {
    await deleteImageFile(props);
  } finally {
    // The parent layers only this image read go with it.
    sweepLayers(path.dirname(props.path));
  }
}

async function deleteImageFile(props: ImageOutputs): Promise<void> {
  // A replacement made at the same path has a record of its own: leave it. Taken from the image
  // cache, it is the very file (a hard link of the entry it was stored as), so its identity is no help.
  if (madeHere.has(props.path)) return;
  if (props.published && isLocalCopy(props.path, props.published)) {
    fs.rmSync(props.path, { force: true });
    fs.rmSync(sbomFileName(props.path), { force: true });
    forgetLocalCopy(props.path);
    return;
  }
  if (!fs.existsSync(props.path)) return;
  if (!removeImageIfOurs(props.path, props.identity)) {
    const progress = engineProgress(props.__urn, props.name);
    progress.note(`not deleting ${props.path}: it is not the file this resource built`, "warning");
    await progress.flush();
  }
}

export const imageProvider: pulumi.dynamic.ResourceProvider<ImageInputs, ImageOutputs> = {
  check: (olds, news) => checkImage(news, olds as Partial<CheckedImageInputs>),
  diff: async (_id, olds, news) => diffImage(olds, news as CheckedImageInputs),
  create: async (inputs) => {
    const checked = inputs as CheckedImageInputs;
    const outs = definedOnly(await createImage(checked, engineProgress(checked.__urn, checked.name), cliCadence()));
    madeHere.add(outs.path);
    return { id: outs.path, outs };
  },
  // Only inputs that change how, not what, we build reach update (mergeSteps), and publishing an image not published yet.
  update: async (_id, olds, news) => ({ outs: definedOnly(await updateImage(olds, news as CheckedImageInputs)) }),
  read: async (id, props) => readImage(id, props),
  delete: async (_id, props) => deleteImage(props),
};
