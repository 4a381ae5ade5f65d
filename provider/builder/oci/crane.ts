// Running go-containerregistry's `crane`, the registry client: where setup
// put it, the credentials it reads (the Docker config, or REGISTRY_AUTH_FILE
// as podman and skopeo name it), and errors that name the registry and the
// cause but never a credential.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CommandError, MINUTE, run, type RunningCommand, start } from "../run/exec";
import type { Logger } from "../run/log";
import { sharedScript } from "../run/packageroot";

const shared = sharedScript<{ CRANE_VERSION: string; cranePath(): string }>("crane.js");

export const CRANE_VERSION = shared.CRANE_VERSION;

/** The crane binary, or a clear error if setup has not built it. */
export function craneBinary(): string {
  const bin = shared.cranePath();
  if (!fs.existsSync(bin)) {
    throw new Error(`crane ${CRANE_VERSION} not found at ${bin}: run npm run setup (it builds crane into the per-user cache), or set VM_IMAGES_CRANE`);
  }
  return bin;
}

/** Where crane reads credentials from: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
function dockerConfigFile(): string {
  return path.join(process.env.DOCKER_CONFIG || path.join(os.homedir(), ".docker"), "config.json");
}

/** Every string in a credentials file that must never be shown: auth blobs, tokens, passwords. */
function secretsOf(file: string): string[] {
  let auths: Record<string, Record<string, unknown>>;
  try {
    auths = (JSON.parse(fs.readFileSync(file, "utf8")) as { auths?: typeof auths }).auths ?? {};
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const entry of Object.values(auths)) {
    for (const key of ["auth", "password", "identitytoken", "registrytoken"]) {
      const v = entry?.[key];
      if (typeof v !== "string" || v.length < 3) continue;
      out.push(v);
      if (key === "auth") {
        const plain = Buffer.from(v, "base64").toString("utf8");
        out.push(plain, plain.slice(plain.indexOf(":") + 1));
      }
    }
  }
  return out.filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
}

/** The environment and redaction of one registry operation. */
export interface RegistrySession {
  env: Record<string, string>;
  /** Removes every known credential from a message. */
  redact(text: string): string;
  close(): void;
}

/**
 * Credentials as crane reads them. With REGISTRY_AUTH_FILE set and no
 * DOCKER_CONFIG, crane is pointed at that file (same `auths` format) through
 * a private DOCKER_CONFIG directory.
 */
export function registrySession(): RegistrySession {
  const env: Record<string, string> = {};
  let tmp: string | undefined;
  let file = dockerConfigFile();
  const authFile = process.env.REGISTRY_AUTH_FILE;
  if (authFile && !process.env.DOCKER_CONFIG) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-auth-"));
    fs.symlinkSync(path.resolve(authFile), path.join(tmp, "config.json"));
    env.DOCKER_CONFIG = tmp;
    file = authFile;
  }
  const secrets = [...secretsOf(file), ...(authFile ? secretsOf(authFile) : [])];
  return {
    env,
    redact: (text) => {
      let out = text.replace(/\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]+/g, "$1 [redacted]");
      for (const s of secrets) out = out.split(s).join("[redacted]");
      return out;
    },
    close: () => tmp && fs.rmSync(tmp, { recursive: true, force: true }),
  };
}

export interface CraneOptions {
  log: Logger;
  label: string;
  signal?: AbortSignal;
  session: RegistrySession;
  /** Plain HTTP or unverified TLS for a registry that is not on loopback (crane's --insecure). */
  insecure?: boolean;
  timeoutMs?: number;
  /** What crane reads on its stdin (a manifest to put). */
  input?: string;
}

/** The error of a failed registry operation: the registry, the cause, no credential. */
export class RegistryError extends Error {
  constructor(
    message: string,
    /** The registry answered that the tag or repository does not exist. */
    readonly notFound: boolean,
  ) {
    super(message);
    this.name = "RegistryError";
  }
}

const NOT_FOUND = /MANIFEST_UNKNOWN|NAME_UNKNOWN|NOT_FOUND|status code 404|: 404 Not Found/;

function registryError(op: string, host: string, err: unknown, session: RegistrySession): RegistryError {
  const tail = err instanceof CommandError ? err.stderrTail.join("\n") : (err as Error).message;
  const lines = session.redact(tail).split("\n").filter((l) => l.trim() !== "");
  // A stopped command's stderr may say nothing of why it ended.
  if (err instanceof CommandError && err.stopped) lines.push(err.stopped);
  const cause = lines.slice(-3).join("; ") || "no output";
  return new RegistryError(`registry ${host}: ${op} failed: ${cause}`, NOT_FOUND.test(tail));
}

/** Run one crane command; resolves with its stdout, rejects with a RegistryError. */
export async function crane(op: string, host: string, args: string[], o: CraneOptions): Promise<string> {
  const bin = craneBinary();
  try {
    return await run(bin, [...args, ...(o.insecure ? ["--insecure"] : [])], {
      label: o.label, log: o.log, signal: o.signal, capture: true, input: o.input,
      timeoutMs: o.timeoutMs ?? 30 * MINUTE, env: { ...o.session.env }, redact: o.session.redact,
    });
  } catch (err) {
    throw registryError(op, host, err, o.session);
  }
}

/**
 * `crane export REF -`: the image's flattened file system on stdout, for the
 * caller to read. `done` rejects with a RegistryError when crane fails on its
 * own; a crane the caller stops because it refused the stream does not fail.
 */
export function craneExport(op: string, host: string, ref: string, o: CraneOptions & { platform?: string; timeoutMs: number }): RunningCommand {
  return craneStream(op, host, ["export", ...(o.platform ? ["--platform", o.platform] : []), ...(o.insecure ? ["--insecure"] : []), ref, "-"], o);
}

/** `crane blob REPOSITORY@DIGEST`: one blob (a layer, as the registry stores it), its bytes on stdout. */
export function craneBlob(op: string, host: string, ref: string, o: CraneOptions & { timeoutMs: number }): RunningCommand {
  return craneStream(op, host, ["blob", ...(o.insecure ? ["--insecure"] : []), ref], o);
}

function craneStream(op: string, host: string, args: string[], o: CraneOptions & { timeoutMs: number }): RunningCommand {
  const exp = start(craneBinary(), args, {
    label: o.label, log: o.log, signal: o.signal, stdout: "pipe", timeoutMs: o.timeoutMs,
    env: { ...o.session.env }, redact: o.session.redact,
  });
  const done = exp.done.catch((err: unknown) => {
    throw registryError(op, host, err, o.session);
  });
  // As start()'s own: read to the end before it is awaited, not unhandled.
  done.catch(() => {});
  return { ...exp, done };
}
