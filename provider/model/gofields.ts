// JSON keys as Go's encoding/json matches them to struct fields: exactly,
// else case-insensitively (with Go's folding); and, for our warnings, the
// known field a mistyped key most likely meant.

/** Go's case folding of ASCII letters, with the two non-ASCII letters that fold to them (ſ to s, K to k). */
function fold(key: string): string {
  return key.replace(/\u017f/g, "s").replace(/\u212a/g, "k").toLowerCase();
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

/** The known field a mistyped one most likely meant, if one is close. */
export function resembles(key: string, known: string[]): string | undefined {
  const scored = known.map((k) => ({ k, d: distance(fold(key), fold(k)) })).sort((x, y) => x.d - y.d);
  return scored[0] && scored[0].d <= (key.length >= 5 ? 2 : 1) ? scored[0].k : undefined;
}

/** Renamed fields, with the key the file used for each of ours. */
export interface Renamed {
  values: Record<string, unknown>;
  spelled: Record<string, string>;
}

/**
 * Map an object's keys to our field names as Go's decoder does: an exact
 * match, else a case-insensitive one; a later key overrides an earlier one.
 * Unknown keys are reported to `unknown` and dropped.
 */
export function renameKeys(obj: Record<string, unknown>, names: Record<string, string>, unknown: (key: string) => void): Renamed {
  const folded = new Map(Object.entries(names).map(([k, v]) => [fold(k), v]));
  const values: Record<string, unknown> = {};
  const spelled: Record<string, string> = {};
  for (const [key, value] of Object.entries(obj)) {
    const ours = names[key] ?? folded.get(fold(key));
    if (ours === undefined) {
      unknown(key);
      continue;
    }
    values[ours] = value;
    spelled[ours] = key;
  }
  return { values, spelled };
}
