// Diff decisions for an image, pure: given the recorded state, the new
// checked inputs and what is on disk now, whether to rebuild and why.

/** The sentinel Pulumi uses for a value not known yet (during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** What identifies the file a build produced, so we never touch another one. */
export interface FileIdentity {
  ino: number;
  size: number;
  mtimeMs: number;
}

export interface DiffInputs {
  dir: string;
  name: string;
  buildKey: string;
  /** Inputs that, when changed, need no rebuild (they change how, not what, we build). */
  mergeSteps?: boolean;
  rebuild?: string;
  fileHashes?: Record<string, string>;
  parentBuildKey?: string;
}

export interface DiffState extends DiffInputs {
  path: string;
  identity: FileIdentity;
}

export interface DiffDecision {
  changes: boolean;
  /** Properties whose change forces a rebuild; empty means an in-place update. */
  replaces: string[];
}

export function sameIdentity(a: FileIdentity | undefined, b: FileIdentity | undefined): boolean {
  return !!a && !!b && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

function differs(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) !== JSON.stringify(b ?? null);
}

/**
 * Rebuild when the build key changed (or is not known yet, as during a
 * preview where the parent is rebuilt), when the image moves, when the
 * `rebuild` trigger changed, or when the image file is gone or is no longer
 * the one we built. `replaces` names the inputs that explain why.
 */
export function decideImageDiff(olds: DiffState, news: DiffInputs, onDisk: FileIdentity | undefined): DiffDecision {
  const replaces: string[] = [];
  if (olds.dir !== news.dir) replaces.push("dir");
  if (olds.name !== news.name) replaces.push("name");
  if (differs(olds.rebuild, news.rebuild)) replaces.push("rebuild");
  if (news.buildKey === UNKNOWN || olds.buildKey !== news.buildKey) {
    // Name the cause where we can: a local file, the parent, or else the configuration.
    if (differs(olds.fileHashes, news.fileHashes)) replaces.push("fileHashes");
    if (news.parentBuildKey === UNKNOWN || differs(olds.parentBuildKey, news.parentBuildKey)) replaces.push("parentBuildKey");
    replaces.push("buildKey");
  }
  if (!sameIdentity(olds.identity, onDisk)) replaces.push("path");
  const changes = replaces.length > 0 || differs(olds.mergeSteps, news.mergeSteps);
  return { changes, replaces: [...new Set(replaces)] };
}
