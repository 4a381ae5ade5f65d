// Debian version order, as dpkg compares versions (deb-version(7)):
// [epoch:]upstream[-revision], each part compared as alternating runs of
// non-digits and digits; among non-digits letters sort before other
// characters and "~" before everything, even the end of the part.

export interface DebVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

export function parseDebVersion(version: string): DebVersion {
  const v = version.trim();
  const colon = v.indexOf(":");
  const epoch = colon > 0 && /^\d+$/.test(v.slice(0, colon)) ? Number(v.slice(0, colon)) : 0;
  const rest = colon > 0 ? v.slice(colon + 1) : v;
  const dash = rest.lastIndexOf("-");
  return dash > 0 ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) } : { epoch, upstream: rest, revision: "" };
}

/** A character's weight among non-digits: "~" first, then the end of the string, then letters, then the rest. */
function weight(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s[i];
  if (c === "~") return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function comparePart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // The non-digit run.
    while ((i < a.length && !/\d/.test(a[i])) || (j < b.length && !/\d/.test(b[j]))) {
      const wa = i < a.length && !/\d/.test(a[i]) ? weight(a, i) : weight("", 0);
      const wb = j < b.length && !/\d/.test(b[j]) ? weight(b, j) : weight("", 0);
      if (wa !== wb) return wa < wb ? -1 : 1;
      i++;
      j++;
    }
    // The digit run, as a number (leading zeros do not count).
    let na = "";
    let nb = "";
    while (i < a.length && /\d/.test(a[i])) na += a[i++];
    while (j < b.length && /\d/.test(b[j])) nb += b[j++];
    na = na.replace(/^0+/, "");
    nb = nb.replace(/^0+/, "");
    if (na.length !== nb.length) return na.length < nb.length ? -1 : 1;
    if (na !== nb) return na < nb ? -1 : 1;
  }
  return 0;
}

/** Negative, zero or positive as `a` sorts before, with or after `b`. */
export function compareDebVersions(a: string, b: string): number {
  const x = parseDebVersion(a);
  const y = parseDebVersion(b);
  if (x.epoch !== y.epoch) return x.epoch < y.epoch ? -1 : 1;
  return comparePart(x.upstream, y.upstream) || comparePart(x.revision, y.revision);
}
