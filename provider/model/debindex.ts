// Package files as a verified package index (a Packages file whose digest a
// signed InRelease gives) lists them: under the name apt gives each in
// /var/cache/apt/archives, with its size and SHA256. A .deb that an image's
// apt downloaded joins the shared cache only when all three agree.
import { aptQuote } from "./aptquote";
import { stanzas } from "./dpkgstatus";

/** A package of an index, as its stanza gives it. */
export interface IndexedDeb {
  package: string;
  version: string;
  architecture: string;
  size: number;
  /** The pool path (Filename:), for the file's extension. */
  filename: string;
}

/** The file name apt stores a downloaded package under: NAME_VERSION_ARCH.EXT, the version's epoch colon as %3a. */
export function archiveFileName(deb: IndexedDeb): string {
  const ext = /\.([^./]+)$/.exec(deb.filename)?.[1] ?? "deb";
  return `${aptQuote(deb.package, "_:")}_${aptQuote(deb.version, "_:")}_${aptQuote(deb.architecture, "_:.")}.${ext}`;
}

/** A package of an index with the digest its stanza gives. */
export interface IndexedDebFile extends IndexedDeb {
  sha256: string;
}

/**
 * Every package of `indexes` (Packages files' texts) by the name apt stores
 * it under, parsed once: a downloaded file's name says which entries may
 * vouch for it before a byte of it is read. Stanzas that lack a field, or
 * whose Size or SHA256 is malformed, are left out. One name may have several
 * entries (the same version in two suites).
 */
export function debsByArchiveName(indexes: string[]): Map<string, IndexedDebFile[]> {
  const byName = new Map<string, IndexedDebFile[]>();
  for (const index of indexes) {
    for (const fields of stanzas(index)) {
      const [pkg, version, architecture, size, filename, sha256] =
        ["package", "version", "architecture", "size", "filename", "sha256"].map((f) => fields.get(f));
      if (!pkg || !version || !architecture || !filename || !size || !/^\d+$/.test(size) || !sha256 || !/^[0-9a-f]{64}$/.test(sha256)) continue;
      const deb: IndexedDebFile = { package: pkg, version, architecture, size: Number(size), filename, sha256 };
      const name = archiveFileName(deb);
      byName.set(name, [...(byName.get(name) ?? []), deb]);
    }
  }
  return byName;
}
