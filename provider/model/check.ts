// Checking an Image's inputs, pure: validation that names the image and the
// field, the backend resolved from the host's facts, local files hashed, and
// the build key computed, so `pulumi preview` fails early and shows what
// would be rebuilt.
import * as path from "node:path";
import type { Action } from "../actions";
import { buildKey } from "./buildkey";
import type { Layering } from "./layers";
import { ConfigError, ConfigErrors, type ImageConfig, parseImageConfig } from "./config";
import { UNKNOWN } from "./diff";
import { archRefusal, type HostFacts, resolveBackend } from "./host";
import { archOf, binfmtEntry, bootFirmware } from "./arch";
import { isBootable } from "./image";
import { identityOf } from "./identity";
import { hashLocalInputs } from "./localinputs";
import { refusal, type SettingsWith, settingsWhere, type SettingValues } from "./settings";
import { splitUrlCredentials } from "./urlcredentials";
import { snapshotMirror } from "./archivesettings";

/** Settings an Image always has: those a program must give and those the Image defaults. */
type ImageSettingSet = SettingsWith<{ image: "required" | "defaulted" }>;
/** Settings an Image has when given. */
type ImageSettingGiven = SettingsWith<{ image: "given" }>;

/** The Image resource's inputs, as the program gives them: its configuration, its settings (settings.ts), and links to its parent. */
export interface ImageInputs extends Pick<SettingValues, ImageSettingSet>, Partial<Pick<SettingValues, ImageSettingGiven>> {
  name: string;
  parent?: string;
  parentPath?: string;
  /** A parent of the forest's build key: it says the parent is one (and where the registry keeps it); not part of this image's key. */
  parentBuildKey?: string;
  /** A parent of the forest's content digest ("sha256:<hex>"), part of this image's build key. */
  parentDigest?: string;
  /** What identifies an external parent's content (such as "pulled sha256:..."), part of this image's build key. */
  parentKey?: string;
  size?: string;
  bootable?: boolean;
  packages?: string[];
  actions?: Action[];
  /** The resource's own URN, where its progress is shown (the engine's Log call takes one). */
  __urn?: string;
}

/** The settings an Image takes, in the table's order, and those it always has. */
const IMAGE_SETTINGS = settingsWhere({ image: ["required", "defaulted", "given"] });
const IMAGE_SETTING_SET = new Set<string>(settingsWhere({ image: ["required", "defaulted"] }));

/** Inputs after `check`: validated, with the backend resolved and the build key computed. */
export interface CheckedImageInputs extends ImageInputs {
  backend: "guestfs" | "direct";
  fileHashes: Record<string, string>;
  buildKey: string;
  /** Why this image would be rebuilt, compared with the inputs it was built from (shown by `pulumi preview --diff`). */
  rebuildReasons: string[];
  /** With followArchive: the newer versions the archive has of its packages, which rebuild it (set by the provider's check). */
  archiveUpdates?: string;
}

export interface CheckFailure {
  property: string;
  reason: string;
}

export type CheckOutcome =
  | { ok: true; inputs: Omit<CheckedImageInputs, "rebuildReasons"> }
  | { ok: false; failures: CheckFailure[] };

const isUnknown = (v: unknown) => v === UNKNOWN;

function failure(property: string, image: string, reason: string): CheckFailure {
  return { property, reason: `image ${JSON.stringify(image)}: ${property}: ${reason}` };
}

/** The image configuration of an Image's inputs (throws a ConfigError with every problem). */
export function imageConfigOf(inputs: ImageInputs): ImageConfig {
  return parseImageConfig({
    name: inputs.name, parent: inputs.parent, size: inputs.size, bootable: inputs.bootable,
    packages: inputs.packages ?? [], actions: inputs.actions ?? [],
  });
}

/** Validate an Image's inputs and compute its build key on a host with these facts. */
export async function checkImageInputs(news: ImageInputs, host: HostFacts): Promise<CheckOutcome> {
  const name = typeof news.name === "string" ? news.name : "(unnamed)";
  const failures: CheckFailure[] = [];
  const context = { insecureRegistry: news.insecureRegistry === true };
  for (const setting of IMAGE_SETTINGS) {
    const value = news[setting];
    if (value === undefined && !IMAGE_SETTING_SET.has(setting)) continue;
    const reason = refusal(setting, value, context);
    if (reason) failures.push(failure(setting, name, reason));
  }

  let image: ImageConfig | undefined;
  try {
    image = imageConfigOf(news);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err instanceof ConfigErrors ? err.problems : [err];
    failures.push(...problems.map((p) => ({ property: p.field.split(/[.[ ]/)[0] || "name", reason: p.message })));
  }
  if (failures.length || !image) return { ok: false, failures };

  let fileHashes: Record<string, string>;
  try {
    fileHashes = await hashLocalInputs(image, { baseDir: news.baseDir, allowed: news.hostPaths ?? [] });
  } catch (err) {
    return { ok: false, failures: [{ property: "actions", reason: (err as Error).message }] };
  }
  if (news.snapshot !== undefined && news.mirror !== undefined) {
    return { ok: false, failures: [failure("snapshot", name, "set either mirror or snapshot, not both (a snapshot is the mirror it pins)")] };
  }
  const mirror = news.snapshot === undefined ? news.mirror : snapshotMirror(news.snapshot);
  const backend = resolveBackend(news.backend, host);
  const arch = archOf(news);
  const archProblem = archRefusal(arch, backend, host, binfmtEntry(arch)) ??
    (isBootable(image) && !bootFirmware(arch) ? `${JSON.stringify(arch)} images cannot be bootable here (amd64 and arm64 can): set bootable to false` : undefined);
  if (archProblem) return { ok: false, failures: [failure("arch", name, archProblem)] };
  const inForest = image.parent !== undefined && news.parentBuildKey !== undefined;
  const external = image.parent !== undefined && !inForest;
  const parentPath = image.parent === undefined ? undefined : (news.parentPath ?? path.join(news.dir, image.parent));
  const identity = external && news.parentKey === undefined && parentPath ? identityOf(parentPath) : undefined;
  const parentFile = external && news.parentKey === undefined ? (identity ? `${identity.ino}:${identity.size}:${identity.mtimeMs}` : "missing") : undefined;
  // A parent of the forest whose bytes were never hashed (in the registry only, published without its digest): its build key stands in.
  const parentDigest = inForest ? (news.parentDigest ?? `build key ${news.parentBuildKey}`) : undefined;
  const key = (inForest && isUnknown(news.parentDigest)) || (external && isUnknown(news.parentKey))
    ? UNKNOWN
    : buildKey({
      image, backend, arch, suite: news.suite, mirror: mirror && splitUrlCredentials(mirror).url, snapshot: news.snapshot !== undefined,
      parentDigest, parentKey: external ? news.parentKey : undefined, parentFile, fileHashes, layering: news.layering as Layering | undefined,
    });
  return {
    ok: true,
    inputs: { ...news, mirror, parentPath, packages: image.packages, actions: image.actions, backend, fileHashes, buildKey: key },
  };
}
