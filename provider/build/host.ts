// Probing the build host once per process: whether we are root and which
// tools are installed. The model decides with these facts (model/host.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import { DIRECT_TOOLS, type HostFacts } from "../model/host";

/** Whether `tool` is an executable on PATH. */
export function onPath(tool: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, tool), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

let probed: HostFacts | undefined;

/** This host's facts, probed on first use. */
export function hostFacts(): HostFacts {
  probed ??= { root: process.getuid?.() === 0, tools: new Set(DIRECT_TOOLS.filter(onPath)) };
  return probed;
}
