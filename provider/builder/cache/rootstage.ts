// The mirror's side of a root's packages stage (model/rootstage.ts): which
// package indices a stage was resolved from, as its build's apt read them,
// and whether the mirror still serves the same ones, so that a root built
// before the mirror published new packages is not reused after.
import * as fs from "node:fs";
import * as path from "node:path";
import { packageIndexDigest, type StageIndex, stageIndexes } from "../../model/rootstage";
import { splitUrlCredentials } from "../../model/urlcredentials";

const INDEX_TIMEOUT_MS = 15_000;

/**
 * The indices of the stage just bootstrapped: `dir` holds the image's
 * sources.list and the InRelease files its apt read, copied by
 * mmdebstrap-hook.sh `stage-sources`.
 */
export function readStageIndexes(dir: string): { indexes?: StageIndex[]; reason?: string } {
  let sources: string;
  try {
    sources = fs.readFileSync(path.join(dir, "sources.list"), "utf8");
  } catch {
    return { reason: "the image has no /etc/apt/sources.list" };
  }
  return stageIndexes(sources, (name) => {
    try {
      return fs.readFileSync(path.join(dir, name), "utf8");
    } catch {
      return undefined;
    }
  });
}

/**
 * fetch takes no credentials in a URL: the mirror's go in a header, and only
 * to the mirror itself (`uri` is a source of the image's sources.list, which
 * names the mirror without them). No message names them.
 */
function mirrorAuthorization(uri: string, mirror: string | undefined): Record<string, string> {
  let given: URL;
  try {
    if (!mirror) return {};
    given = new URL(mirror);
  } catch {
    return {};
  }
  const same = splitUrlCredentials(mirror).url.replace(/\/+$/, "") === uri.replace(/\/+$/, "");
  if (!same || (!given.username && !given.password)) return {};
  return { authorization: `Basic ${Buffer.from(`${decodeURIComponent(given.username)}:${decodeURIComponent(given.password)}`).toString("base64")}` };
}

/**
 * The bytes of `<uri>/dists/<suite>/<file>` now; with `mirror`'s
 * credentials when `uri` is that mirror; a file:// mirror's read from its
 * directory. Undefined, with the reason, when it cannot be read.
 */
export async function fetchSuiteFile(
  uri: string, suite: string, file: string, mirror: string | undefined, signal?: AbortSignal, timeoutMs = INDEX_TIMEOUT_MS,
): Promise<{ data?: Buffer; reason?: string }> {
  let base: URL;
  try {
    base = new URL(uri);
  } catch {
    return { reason: `${JSON.stringify(uri)} is not a URL` };
  }
  const url = `${uri.replace(/\/+$/, "")}/dists/${encodeURIComponent(suite)}/${file.split("/").map(encodeURIComponent).join("/")}`;
  if (base.protocol === "file:") {
    try {
      return { data: fs.readFileSync(new URL(url)) };
    } catch (err) {
      return { reason: `${url}: ${(err as Error).message}` };
    }
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") return { reason: `${uri} is not http(s)` };
  const headers = mirrorAuthorization(uri, mirror);
  try {
    const timeout = AbortSignal.timeout(timeoutMs);
    const res = await fetch(url, { headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    if (!res.ok) return { reason: `${url}: HTTP ${res.status}` };
    return { data: Buffer.from(await res.arrayBuffer()) };
  } catch (err) {
    if (signal?.aborted) throw err;
    return { reason: `${url}: ${(err as Error).message}` };
  }
}

/** The text of `<uri>/dists/<suite>/InRelease` now (fetchSuiteFile). */
export async function fetchInRelease(uri: string, suite: string, mirror: string | undefined, signal?: AbortSignal): Promise<{ text?: string; reason?: string }> {
  const { data, reason } = await fetchSuiteFile(uri, suite, "InRelease", mirror, signal);
  return data ? { text: data.toString("utf8") } : { reason };
}

/** packageIndexDigest() of an index's InRelease now, or why it cannot be read. */
async function currentDigest(index: StageIndex, mirror: string | undefined, signal?: AbortSignal): Promise<{ digest?: string; reason?: string }> {
  if (!/^https?:/i.test(index.uri)) return { reason: `${index.uri} is not http(s)` };
  const { text, reason } = await fetchInRelease(index.uri, index.suite, mirror, signal);
  if (text === undefined) return { reason };
  const digest = packageIndexDigest(text);
  return digest ? { digest } : { reason: `${index.uri.replace(/\/+$/, "")}/dists/${encodeURIComponent(index.suite)}/InRelease lists no package index` };
}

/**
 * Why a stage resolved from `indexes` is out of date (a suite whose package
 * indices changed, or that cannot be read now); undefined when every one is
 * as it was. `mirror`: the image's mirror as configured, with credentials.
 */
export async function staleIndex(indexes: readonly StageIndex[], mirror: string | undefined, signal?: AbortSignal): Promise<string | undefined> {
  const now = await Promise.all(indexes.map((i) => currentDigest(i, mirror, signal)));
  for (const [n, index] of indexes.entries()) {
    if (now[n].reason) return now[n].reason;
    if (now[n].digest !== index.digest) return `the package indices of ${index.uri} ${index.suite} have changed`;
  }
  return undefined;
}
