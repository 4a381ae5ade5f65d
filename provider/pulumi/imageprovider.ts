// The Image resource's provider: validation and build keys at `check` (so
// `pulumi preview` fails early and shows what would be rebuilt), builds at
// `create`, and a delete that only removes the file this resource built.
import type * as pulumi from "@pulumi/pulumi";
import { type ImageOutputs } from "../build/create";
import { hostFacts } from "../build/host";
import { removeImageIfOurs } from "../build/imagebuild";
import { type CheckedImageInputs, checkImageInputs, type ImageInputs } from "../model/check";
import { decideImageDiff, rebuildReasons, UNKNOWN } from "../model/diff";
import { canonicalJson } from "../model/hash";
import type { HostFacts } from "../model/host";
import { identityOf, sameIdentity } from "../model/identity";
import { engineProgress } from "./enginelog";

/** Where the Node.js SDK keeps a dynamic resource's serialized provider among its inputs. */
const PROVIDER_KEY = "__provider";

/** The engine's protobuf Struct has no `undefined`: leave such keys out. */
export function definedOnly<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The engine checks a resource it replaces a second time, without its old
 * inputs, and keeps the result as the new inputs. The reasons found by the
 * first check (the one with the old inputs) are carried over to the second
 * here, in this provider process, which serves one operation.
 */
const carriedReasons = new Map<string, string[]>();

function reasonsFor(olds: Partial<CheckedImageInputs> | undefined, checked: Omit<CheckedImageInputs, "rebuildReasons">): string[] {
  const key = canonicalJson({ ...checked, [PROVIDER_KEY]: undefined, rebuildReasons: undefined });
  if (olds?.buildKey) {
    const reasons = rebuildReasons(olds, checked);
    carriedReasons.set(key, reasons);
    return reasons;
  }
  return carriedReasons.get(key) ?? (checked.parentBuildKey === UNKNOWN ? ["parent replaced"] : []);
}

export async function checkImage(
  news: ImageInputs,
  olds?: Partial<CheckedImageInputs>,
  host: HostFacts = hostFacts(),
): Promise<pulumi.dynamic.CheckResult<CheckedImageInputs>> {
  const outcome = await checkImageInputs(news, host);
  if (!outcome.ok) return { inputs: news as CheckedImageInputs, failures: outcome.failures };
  return { inputs: definedOnly({ ...outcome.inputs, rebuildReasons: reasonsFor(olds, outcome.inputs) }) };
}

export function diffImage(olds: ImageOutputs, news: CheckedImageInputs): pulumi.dynamic.DiffResult {
  const decision = decideImageDiff(olds, news, identityOf(olds.path));
  return { changes: decision.changes, replaces: decision.replaces, deleteBeforeReplace: false };
}

/** Refresh: an image file deleted or changed outside Pulumi reads as gone, so the next `up` builds it again. */
export function readImage(id: string, props: ImageOutputs | undefined): pulumi.dynamic.ReadResult<ImageOutputs> {
  if (!props) return { id };
  return sameIdentity(identityOf(props.path), props.identity) ? { id, props } : {};
}

export async function deleteImage(props: ImageOutputs): Promise<void> {
  if (!removeImageIfOurs(props.path, props.identity)) {
    const progress = engineProgress(props.__urn, props.name);
    progress.note(`not deleting ${props.path}: it is not the file this resource built`, "warning");
    await progress.flush();
  }
}

export type { CheckedImageInputs, ImageInputs } from "../model/check";
export type { ImageOutputs } from "../build/create";
