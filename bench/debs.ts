// Where the .deb files of a package cache came from: each file's URL on the
// mirror, read from the apt package lists the same build fetched (as apt
// stores them: <host>_<path>_dists_<suite>_..._Packages, one stanza per
// package with its Filename in the pool). Pure: texts in, URLs out.

/** The mirror's base URL of a package list's file name: deb.debian.org_debian_dists_... is http://deb.debian.org/debian. */
export function listBaseUrl(listFile: string, scheme = "http"): string | undefined {
  const i = listFile.indexOf("_dists_");
  return i > 0 && listFile.endsWith("_Packages") ? `${scheme}://${listFile.slice(0, i).replace(/_/g, "/")}` : undefined;
}

/** The pool file name apt's archive names a .deb: its epoch ("1%3a") dropped, as the pool spells it. */
export function poolName(debFile: string): string {
  const [name, version, arch] = decodeURIComponent(debFile).split("_");
  return [name, version?.replace(/^\d+:/, ""), arch].join("_");
}

/** Each pool path of a Packages list, by its file name. */
export function poolPaths(packagesText: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of packagesText.matchAll(/^Filename: (\S+)$/gm)) found.set(m[1].slice(m[1].lastIndexOf("/") + 1), m[1]);
  return found;
}

/**
 * The URL of each .deb, from the lists (file name and text each); throws
 * naming those no list holds, for a floor without some of its packages
 * would flatter the builder measured against it.
 */
export function debUrls(debs: string[], lists: { file: string; text: string }[]): Map<string, string> {
  const pools = lists.flatMap((l) => {
    const base = listBaseUrl(l.file);
    return base ? [{ base, paths: poolPaths(l.text) }] : [];
  });
  const urls = new Map<string, string>();
  const missing: string[] = [];
  for (const deb of debs) {
    const pool = pools.find((p) => p.paths.has(poolName(deb)));
    if (pool) urls.set(deb, `${pool.base}/${pool.paths.get(poolName(deb))}`);
    else missing.push(deb);
  }
  if (missing.length) throw new Error(`no package list names ${missing.length} of the .debs: ${missing.slice(0, 5).join(", ")}`);
  return urls;
}
