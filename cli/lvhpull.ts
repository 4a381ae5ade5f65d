// `npm run lvh -- images pull REF --dir D`: lvh's pull, without a Docker
// daemon; D/images/<image> for each image of REF (an overlay with the
// parent layers it reads, or with --flatten a standalone file).
import * as path from "node:path";
import { registrySession } from "../provider/builder/oci/crane";
import { pullImages } from "../provider/builder/oci/pull";
import type { Logger } from "../provider/builder/run/log";
import type { PullOptions } from "./lvhargs";

/** Pull as `opts` says; a relative --dir is taken from `where`. */
export async function runPull(opts: PullOptions, where: string): Promise<void> {
  const session = registrySession();
  // crane's lines go to the terminal as they come: there is no build log to keep them.
  const log: Logger = { file: "(stderr)", line: (label, text) => console.error(`${label} | ${text}`), close: async () => {} };
  try {
    const r = await pullImages({
      ref: opts.ref, dir: path.join(path.resolve(where, opts.dir), "images"), platform: opts.platform,
      cache: opts.cache, flatten: opts.flatten, insecure: opts.insecure, log, label: "pull", session,
    });
    console.log(`lvh: pulled ${r.pinned}: ${r.files.map((f) => f.path).join(" ")}`);
  } finally {
    session.close();
  }
}
