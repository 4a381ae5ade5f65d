// Disk sizes, read exactly as lvh's tools read them:
//  - a root image's `image_size` goes to `guestfish -N FILE=disk:SIZE`,
//    whose parser (gnulib's xstrtoull, base 0) takes an integer (a leading
//    0 means octal, 0x hex) and one of K M G T P E (k for K), optionally
//    followed by iB (powers of 1024, the default) or B/D (powers of 1000);
//  - a derived image's goes to `qemu-img resize IMAGE SIZE`: a decimal
//    number, fractions allowed, and one of B K M G T P E in either case,
//    all powers of 1024; a leading + grows the disk by that much, anything
//    else is the new size, which may not be smaller (lvh does not shrink).

const POWERS = "KMGTPE";

function power(unit: string): number {
  return POWERS.indexOf(unit.toUpperCase()) + 1;
}

function safe(bytes: bigint): number {
  return bytes > 0n && bytes <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(bytes) : NaN;
}

/** Bytes of a root image's size as guestfish reads it, or NaN where guestfish refuses it (or it is zero). */
export function rootSizeBytes(size: string): number {
  const m = /^\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)(?:([kKMGTPE])(iB|B|D)?)?$/.exec(size);
  if (!m) return NaN;
  const n = BigInt(m[1].length > 1 && m[1][0] === "0" && !/^0[xX]/.test(m[1]) ? `0o${m[1].slice(1)}` : m[1]);
  if (!m[2]) return safe(n);
  const base = m[3] === "B" || m[3] === "D" ? 1000n : 1024n;
  return safe(n * base ** BigInt(power(m[2])));
}

/** A derived image's size as qemu-img resize reads it: a new size, or (with +) a growth; undefined where qemu-img refuses it. */
export function resizeOf(size: string): { grow: boolean; bytes: number } | undefined {
  const m = /^(\+?)([0-9]+(?:\.[0-9]+)?)([bBkKmMgGtTpPeE]?)$/.exec(size);
  if (!m) return undefined;
  const unit = m[3] === "" || m[3].toUpperCase() === "B" ? 1 : 1024 ** power(m[3]);
  const bytes = Math.floor(Number(m[2]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) return undefined;
  return { grow: m[1] === "+", bytes };
}

/** Bytes of an absolute size in qemu's syntax ("8G", "1.5k", "4096"); NaN when it is not one. */
export function sizeBytes(size: string): number {
  const r = resizeOf(size);
  return r && !r.grow ? r.bytes : NaN;
}

/**
 * The size as the build key records it: bytes, so that two spellings of one
 * size (8G, 8GiB, 8589934592) are one image; a growth keeps its +.
 */
export function canonicalSize(size: string, root: boolean): string {
  if (root) return String(rootSizeBytes(size));
  const r = resizeOf(size);
  return r ? `${r.grow ? "+" : ""}${r.bytes}` : size;
}
