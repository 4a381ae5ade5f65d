// The settings of how images follow the Debian archive: rebuilt when it
// moves under them (followArchive), or pinned to one moment of it
// (snapshot). Part of the one list of settings (settings.ts).
import { flag, type Setting, text } from "./settingkinds";

/** A snapshot.debian.org time stamp: YYYYMMDDTHHMMSSZ. */
export const SNAPSHOT_STAMP = /^\d{8}T\d{6}Z$/;

/** The mirror a snapshot setting means: snapshot.debian.org's archive at that time, or the dated mirror URL itself. */
export function snapshotMirror(snapshot: string): string {
  return SNAPSHOT_STAMP.test(snapshot) ? `https://snapshot.debian.org/archive/debian/${snapshot}/` : snapshot;
}

export const ARCHIVE_SETTINGS = {
  /**
   * `preview` and `up` compare each image's installed packages (its SBOM)
   * with the package indices its apt sources serve now, and rebuild the
   * images the archive has newer versions for, naming packages and
   * versions. Not part of the build key. @default false
   */
  followArchive: {
    kind: flag, stack: true, image: "given", forest: true, howOnly: true,
    doc: "`true`: `preview` and `up` rebuild the images whose installed packages the archive now has newer versions of, and their children " +
      "(only the package indices are downloaded); see [Following the archive](archive.md#following-the-archive)",
    // Unset is false, and is not sent: the inputs of existing stacks stay as they were.
    defaultDoc: "`false`",
  },
  /**
   * The archive as it was at a snapshot.debian.org time stamp
   * ("20261201T000000Z"), or a dated mirror URL: root images install from it
   * instead of `mirror`. Part of the build key.
   */
  snapshot: {
    kind: text(/^(\d{8}T\d{6}Z|https?:\/\/\S+)$/, "a snapshot.debian.org time stamp such as 20261201T000000Z, or a dated mirror's http(s) URL"),
    stack: true, image: "given", forest: true, buildKey: true,
    doc: "pin root images to the archive at a snapshot.debian.org time stamp (`20261201T000000Z`) or a dated mirror URL, instead of `mirror`; " +
      "see [Pinning the archive](archive.md#pinning-the-archive-snapshot)",
    defaultDoc: "none",
  },
} as const satisfies Record<string, Setting<boolean> | Setting<string>>;
