// An image's apt sources, as its /etc/apt/sources.list and the files of
// sources.list.d give them (one-line `.list` files and deb822 `.sources`
// files): the package indices its apt installs from.
import { stanzas } from "./dpkgstatus";

export interface AptSource {
  uri: string;
  suite: string;
  components: string[];
  /** The architectures the entry is limited to (`arch=`), if it is. */
  architectures?: string[];
}

function options(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/([A-Za-z-]+)(?:[+-])?=(\S+)/g)) out.set(m[1].toLowerCase(), m[2]);
  return out;
}

/** The `deb` entries of a one-line-style file. */
export function oneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)((?:\s+\S+)*)\s*$/.exec(raw.replace(/#.*/, "").trim());
    if (!m) continue;
    const arch = options(m[1] ?? "").get("arch");
    out.push({ uri: m[2], suite: m[3], components: m[4].trim().split(/\s+/).filter(Boolean), ...(arch ? { architectures: arch.split(",") } : {}) });
  }
  return out;
}

/** The `deb` entries of a deb822-style file: each stanza's URIs by Suites, with its Components. */
export function deb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const f of stanzas(text.replace(/^#.*$/gm, ""))) {
    const words = (k: string) => (f.get(k) ?? "").split(/\s+/).filter(Boolean);
    if (!words("types").includes("deb") || /^no$/i.test(f.get("enabled") ?? "")) continue;
    const arch = words("architectures");
    for (const uri of words("uris")) {
      for (const suite of words("suites")) out.push({ uri, suite, components: words("components"), ...(arch.length ? { architectures: arch } : {}) });
    }
  }
  return out;
}

/** Every source of an image's files (path, text), each read in its own style; the same source once. */
export function aptSources(files: readonly { path: string; text: string }[]): AptSource[] {
  const seen = new Set<string>();
  const out: AptSource[] = [];
  for (const f of files) {
    const entries = f.path.endsWith(".sources") ? deb822Sources(f.text) : f.path.endsWith(".list") ? oneLineSources(f.text) : [];
    for (const s of entries) {
      const key = JSON.stringify([s.uri.replace(/\/+$/, ""), s.suite, s.components]);
      if (!seen.has(key)) out.push(s), seen.add(key);
    }
  }
  return out;
}

/** A source's URI without credentials, as the image's files may hold them and no output may. */
export const sourceUri = (uri: string) => uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
