// What the per-user caches of built images and root file systems keep: a
// size bound read from the environment, and which entries go when the
// cache is over it (the least recently used first). Pure: the build layer
// measures the entries and removes them.

/** Bytes of a cache size bound such as "20G", "512MiB", "1.5T" or "1000000" (powers of 1024); NaN when it is not one. */
export function byteLimit(text: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(?:([kKmMgGtTpP])(?:i?B)?|B)?\s*$/.exec(text);
  if (!m) return NaN;
  const bytes = Math.floor(Number(m[1]) * 1024 ** (m[2] ? "KMGTP".indexOf(m[2].toUpperCase()) + 1 : 0));
  return Number.isSafeInteger(bytes) ? bytes : NaN;
}

export interface CacheEntry {
  id: string;
  /** Bytes the entry takes on disk. */
  bytes: number;
  /** When it was last stored or used (ms since the epoch). */
  usedMs: number;
}

/**
 * The entries to remove so that the rest fit in `maxBytes`: least recently
 * used first, never `keep` (the entry just stored) unless it alone is over
 * the bound.
 */
export function evictions(entries: readonly CacheEntry[], maxBytes: number, keep?: string): string[] {
  let total = entries.reduce((sum, e) => sum + e.bytes, 0);
  const out: string[] = [];
  const byAge = [...entries].sort((a, b) => a.usedMs - b.usedMs || a.id.localeCompare(b.id));
  for (const e of byAge) {
    if (total <= maxBytes) break;
    if (e.id === keep) continue;
    out.push(e.id);
    total -= e.bytes;
  }
  const kept = entries.find((e) => e.id === keep);
  if (kept && kept.bytes > maxBytes) out.push(kept.id);
  return out;
}
