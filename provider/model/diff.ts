// Diff decisions for an image, pure: given the recorded state, the new
// checked inputs and what is on disk now, whether to rebuild and why.
import { canonicalJson } from "./hash";
import { type FileIdentity, sameIdentity } from "./identity";
import { settingsWhere } from "./settings";
import { DEFAULT_ARCH } from "./arch";

/** The settings in the build key (suite, mirror, backend): a change of one is a reason. */
const BUILD_KEY_SETTINGS = settingsWhere({ buildKey: true });

/** What an unset build key setting means, where an output records the value (an Image's `arch` output is never unset). */
const UNSET_AS: Partial<Record<string, string>> = { arch: DEFAULT_ARCH };

/** The sentinel Pulumi uses for a value not known yet (during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface DiffInputs {
  dir: string;
  name: string;
  buildKey: string;
  /** Inputs that, when changed, need no rebuild (they change how, not what, we build). */
  mergeSteps?: boolean;
  rebuild?: string;
  fileHashes?: Record<string, string>;
  /** A parent of the forest's content digest; an external parent's key. */
  parentDigest?: string;
  parentKey?: string;
  /** Where the archive has newer versions of its packages (followArchive): a rebuild. */
  archiveUpdates?: string;
  /** Where to publish (an unpublished image is an update, not a rebuild). */
  registry?: string;
  tag?: string;
  /** With a registry: whether this machine keeps a copy of the image (a missing one is pulled, not built). */
  localCopies?: boolean;
}

export interface DiffState extends DiffInputs {
  path: string;
  identity?: FileIdentity;
  published?: string;
  publishedTag?: string;
  /** The image file's content digest; unset in a state written before digests were recorded. */
  digest?: string;
  source?: string;
}

/**
 * Whether an image's recorded outputs lack the content digest its children
 * are keyed by (a state written before digests): an update hashes the file.
 * An artifact kept only in the registry, published without its digest, has
 * none to give.
 */
export function needsDigest(olds: { digest?: string; source?: string }): boolean {
  return olds.digest === undefined && !olds.source?.startsWith("registry ");
}

/** Whether an image with these outputs still has to be published to its registry (or tagged with a new human tag). */
export function needsPublish(olds: { published?: string; publishedTag?: string }, news: { registry?: string; tag?: string }): boolean {
  if (!news.registry) return false;
  if (!olds.published?.startsWith(`${news.registry}@`)) return true;
  return news.tag !== undefined && olds.publishedTag !== news.tag;
}

/** The registry was asked and did not answer: nothing is known of the image there. */
export const UNREACHABLE = "unreachable";

/**
 * What decides an image published to the stack's registry: the artifact its
 * build key's tag points to now (undefined: the tag is gone), and whether
 * this machine's file is an unchanged copy of the recorded artifact.
 */
export interface PublishedFacts {
  current: string | undefined | typeof UNREACHABLE;
  localCopy: boolean;
}

/**
 * Whether the registry, not the local file, is the image: a registry is
 * configured and the state holds the image as published there.
 */
export function inRegistry(olds: { published?: string }, news: { registry?: string }): boolean {
  return !!news.registry && !!olds.published?.startsWith(`${news.registry}@`);
}

export interface DiffDecision {
  changes: boolean;
  /** Properties whose change forces a rebuild; empty means an in-place update. */
  replaces: string[];
}

/** Whether two values differ, whatever the order of their objects' keys (the engine hands back old inputs with sorted keys). */
function differs(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? null) !== canonicalJson(b ?? null);
}

/**
 * Rebuild when the build key changed (or is not known yet, as during a
 * preview where the parent is rebuilt), when the image moves, when the
 * `rebuild` trigger changed, or when the image file is gone or is no longer
 * the one we built. With `published` (the image is in the registry), the
 * registry stands in for the file: gone from it is a rebuild; a moved tag,
 * another directory or a missing local copy are updates. `replaces` names the
 * inputs that explain why.
 */
export function decideImageDiff(olds: DiffState, news: DiffInputs, onDisk: FileIdentity | undefined, published?: PublishedFacts): DiffDecision {
  const replaces: string[] = [];
  // With the image in the registry, the directory only says where this machine keeps its copy.
  if (olds.dir !== news.dir && !published) replaces.push("dir");
  if (olds.name !== news.name) replaces.push("name");
  if (differs(olds.rebuild, news.rebuild)) replaces.push("rebuild");
  if (news.archiveUpdates) replaces.push("archiveUpdates");
  if (news.buildKey === UNKNOWN || olds.buildKey !== news.buildKey) {
    // Name the cause where we can: a local file, the parent, or else the configuration.
    if (differs(olds.fileHashes, news.fileHashes)) replaces.push("fileHashes");
    if (news.parentDigest === UNKNOWN || differs(olds.parentDigest, news.parentDigest)) replaces.push("parentDigest");
    if (news.parentKey === UNKNOWN || differs(olds.parentKey, news.parentKey)) replaces.push("parentKey");
    replaces.push("buildKey");
  }
  if (published) {
    // Gone from the registry: built again. A moved tag or a missing local copy: fetched, never built.
    if (published.current === undefined) replaces.push("published");
    const moved = published.current !== UNREACHABLE && published.current !== undefined && published.current !== olds.published;
    const fetch = news.localCopies !== false && !published.localCopy && published.current !== UNREACHABLE;
    // Another runner's directory matters only where this one keeps a copy: without copies its up is a no-op.
    const moves = olds.dir !== news.dir && news.localCopies !== false;
    // Without a copy here, a digest comes only from the artifact's annotation: asked once, at its pull.
    const hash = needsDigest(olds) && news.localCopies !== false;
    const changes = replaces.length > 0 || moved || fetch || moves || differs(olds.mergeSteps, news.mergeSteps) || needsPublish(olds, news) || hash;
    return { changes, replaces: [...new Set(replaces)] };
  }
  if (!sameIdentity(olds.identity, onDisk)) replaces.push("path");
  const changes = replaces.length > 0 || differs(olds.mergeSteps, news.mergeSteps) || needsPublish(olds, news) || needsDigest(olds);
  return { changes, replaces: [...new Set(replaces)] };
}

/** The inputs that explain a rebuild, as check() sees them (old inputs from the state, new ones checked). */
export interface ReasonInputs {
  dir?: string;
  name?: string;
  size?: string;
  bootable?: boolean;
  packages?: readonly string[];
  actions?: readonly { comment?: string }[];
  suite?: string;
  mirror?: string;
  snapshot?: string;
  backend?: string;
  arch?: string;
  layering?: string;
  /** Where the archive has newer versions of its packages (followArchive): which. */
  archiveUpdates?: string;
  rebuild?: string;
  fileHashes?: Record<string, string>;
  parent?: string;
  parentBuildKey?: string;
  parentDigest?: string;
  parentKey?: string;
  parentPath?: string;
  buildKey?: string;
}

/**
 * The reason of a child whose parent is rebuilt, in a preview: the parent's
 * digest is known only once it is built, and the same bytes leave the child alone.
 */
export const PARENT_MAY_CHANGE = "parent's content may change (parent rebuilt)";

const withoutComments = (actions: ReasonInputs["actions"]) => (actions ?? []).map(({ comment: _c, ...rest }) => rest);

/**
 * Why an image would be rebuilt, in words, for `pulumi preview --diff`:
 * which settings changed, which local files changed (by the name the images
 * file gives them), and whether its parent is rebuilt. Empty for a new image
 * or one whose build key is unchanged.
 */
export function rebuildReasons(olds: ReasonInputs | undefined, news: ReasonInputs): string[] {
  if (!olds?.buildKey) return [];
  const reasons: string[] = [];
  const changed = (what: string, a: unknown, b: unknown) => differs(a, b) && reasons.push(`${what} changed`);
  changed("dir", olds.dir, news.dir);
  changed("name", olds.name, news.name);
  changed("rebuild trigger", olds.rebuild, news.rebuild);
  if (news.archiveUpdates) reasons.push(news.archiveUpdates);
  if (news.buildKey !== UNKNOWN && olds.buildKey === news.buildKey) return [...new Set(reasons)];
  changed("packages", [...new Set(olds.packages ?? [])].sort(), [...new Set(news.packages ?? [])].sort());
  changed("actions", withoutComments(olds.actions), withoutComments(news.actions));
  changed("size", olds.size, news.size);
  changed("bootable", olds.bootable, news.bootable);
  for (const setting of BUILD_KEY_SETTINGS) changed(setting, olds[setting] ?? UNSET_AS[setting], news[setting] ?? UNSET_AS[setting]);
  changed("parent", olds.parent, news.parent);
  const oldFiles = olds.fileHashes ?? {};
  const newFiles = news.fileHashes ?? {};
  for (const file of [...new Set([...Object.keys(oldFiles), ...Object.keys(newFiles)])].sort()) {
    if (!(file in oldFiles)) reasons.push(`file ${file} added`);
    else if (!(file in newFiles)) reasons.push(`file ${file} no longer used`);
    else if (oldFiles[file] !== newFiles[file]) reasons.push(`file ${file} changed`);
  }
  // A parent of the forest counts by its bytes: rebuilt to the same ones, it is no reason.
  if (news.parentDigest === UNKNOWN) reasons.push(PARENT_MAY_CHANGE);
  else if (olds.parentDigest !== undefined && differs(olds.parentDigest, news.parentDigest)) reasons.push("parent's content changed");
  if (news.parentKey === UNKNOWN || (olds.parentKey !== undefined && differs(olds.parentKey, news.parentKey))) reasons.push("parent replaced");
  if (reasons.length === 0) {
    reasons.push(news.parent !== undefined && news.parentBuildKey === undefined && news.parentKey === undefined
      ? "parent image file changed"
      : "build pipeline changed");
  }
  return [...new Set(reasons)];
}
