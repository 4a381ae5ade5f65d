// The mirror's side of a root stage's key (model/rootstage.ts): the suite's
// InRelease file, read now, so that a root built before the mirror published
// new packages is not reused after.
import { packageIndexDigest } from "../model/rootstage";

/** The mirror mmdebstrap uses for Debian when none is given. */
export const DEFAULT_MIRROR = "http://deb.debian.org/debian";

const INDEX_TIMEOUT_MS = 15_000;

/**
 * packageIndexDigest() of `<mirror>/dists/<suite>/InRelease`; undefined, with
 * the reason, when the mirror is not an http(s) URL or does not answer (the
 * root is then built without the cache).
 */
export async function mirrorIndexDigest(suite: string, mirror: string | undefined, signal?: AbortSignal): Promise<{ digest?: string; reason?: string }> {
  const given = mirror ?? DEFAULT_MIRROR;
  let base: URL;
  try {
    base = new URL(given);
  } catch {
    return { reason: `the mirror ${JSON.stringify(given)} is not a URL` };
  }
  // fetch takes no credentials in a URL: they go in the header, and no message names them.
  const headers: Record<string, string> = {};
  if (base.username || base.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString("base64")}`;
    base.username = "";
    base.password = "";
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") return { reason: `the mirror ${base} is not http(s)` };
  const release = `${base.toString().replace(/\/$/, "")}/dists/${encodeURIComponent(suite)}/InRelease`;
  try {
    const timeout = AbortSignal.timeout(INDEX_TIMEOUT_MS);
    const res = await fetch(release, { headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    if (!res.ok) return { reason: `${release}: HTTP ${res.status}` };
    const digest = packageIndexDigest(await res.text());
    return digest ? { digest } : { reason: `${release} lists no package index` };
  } catch (err) {
    if (signal?.aborted) throw err;
    return { reason: `${release}: ${(err as Error).message}` };
  }
}
