// Speaking on an image's own row: the engine's Log call, from the dynamic
// provider process. The engine starts that process with its gRPC address as
// the last argument; a message names the resource by URN, and an ephemeral
// one is a status that the next replaces and that the final diagnostics
// leave out. Without an engine (a library caller, a test), nothing is sent.
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import type { Cadence, ProgressSink, Severity } from "../builder/run/progress";
import { LINES, LIVE } from "../builder/run/progress";
import { engineAddress } from "../builder/run/engine";
import { commandLine, parentOf } from "../builder/run/proc";

interface LogClient {
  log(request: unknown, callback: (err: Error | null) => void): void;
}

let client: LogClient | null | undefined;

/** How long a build waits, at its end, for its last messages to reach the engine. */
const FLUSH_MS = 2_000;

function engineClient(): LogClient | null {
  if (client !== undefined) return client;
  const addr = engineAddress();
  if (!addr) return (client = null);
  // grpc-js through @pulumi/pulumi, so that credentials and the generated
  // client come from one copy (grpc-js checks instanceof).
  const req = createRequire(require.resolve("@pulumi/pulumi/proto/engine_grpc_pb"));
  const grpc = req("@grpc/grpc-js");
  const { EngineClient } = req("./engine_grpc_pb");
  client = new EngineClient(addr.target, grpc.credentials.createInsecure()) as LogClient;
  return client;
}

/** Log `message` on the row of `urn`; resolves even if the engine refuses (a log never fails a build). */
export function engineLog(urn: string, message: string, severity: Severity, ephemeral: boolean): Promise<void> {
  const c = engineClient();
  if (!c) return Promise.resolve();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pb = require("@pulumi/pulumi/proto/engine_pb");
  const r = new pb.LogRequest();
  r.setSeverity(pb.LogSeverity[severity.toUpperCase()]);
  r.setMessage(message);
  r.setUrn(urn);
  r.setEphemeral(ephemeral);
  // The engine drops messages of a stream id it does not know: 0 is none.
  r.setStreamid(0);
  return new Promise((resolve) => c.log(r, () => resolve()));
}

/**
 * Progress of one image, on its row when the engine and the URN are known;
 * otherwise lines that stay go to stderr (the stack's row), statuses nowhere.
 */
export function engineProgress(urn: string | undefined, image: string): ProgressSink {
  const pending = new Set<Promise<void>>();
  const send = (message: string, severity: Severity, ephemeral: boolean) => {
    if (!urn || !engineClient()) {
      if (!ephemeral) process.stderr.write(`${image}: ${message}\n`);
      return;
    }
    const p = engineLog(urn, message, severity, ephemeral).finally(() => pending.delete(p));
    pending.add(p);
  };
  return {
    status: (text) => send(text, "info", true),
    note: (text, severity) => send(text, severity, false),
    // Bounded: an interrupted build must not wait on an engine that is going away.
    flush: () => Promise.race([Promise.all([...pending]).then(() => undefined), new Promise<void>((r) => setTimeout(r, FLUSH_MS).unref())]),
  };
}

/**
 * How the CLI shows our statuses: LIVE when it rewrites rows in a terminal,
 * LINES when it prints each one (--non-interactive, output not a terminal,
 * CI), so a CI log gets few. Found by looking at the `pulumi` process this
 * provider runs under; VM_IMAGES_PROGRESS=live|lines decides instead.
 */
export function cliCadence(env = process.env): Cadence {
  if (env.VM_IMAGES_PROGRESS === "live") return LIVE;
  if (env.VM_IMAGES_PROGRESS === "lines" || env.CI) return LINES;
  let pid = parentOf(process.pid);
  for (let depth = 0; pid && pid > 1 && depth < 6; depth++, pid = parentOf(pid)) {
    try {
      const argv = commandLine(pid) ?? [];
      if (path.basename(argv[0] ?? "") !== "pulumi") continue;
      if (argv.includes("--non-interactive") || argv.some((a) => a.startsWith("--json"))) return LINES;
      return /^\/dev\/(pts\/\d+|tty\w*)$/.test(fs.readlinkSync(`/proc/${pid}/fd/1`)) ? LIVE : LINES;
    } catch {
      return LINES;
    }
  }
  return LINES;
}
