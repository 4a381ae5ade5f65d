// Stopping builds cleanly when the build is interrupted. In the provider
// process, builds in flight are aborted (their commands killed, temp files
// removed) when:
//  - the process gets SIGINT or SIGTERM: the Pulumi CLI sends SIGINT to the
//    provider's process group when it shuts the provider down, and SIGKILL
//    five seconds later;
//  - the engine goes away (the CLI was killed): its gRPC port, our last
//    argument, stops accepting connections. A watchdog notices within
//    seconds, and a build asks once more right before it replaces an image
//    (confirmEngine), so a short build cannot land an image that no state
//    will record.
// Handlers exist only while builds run, so a program that merely loads this
// package keeps Node's default signal behaviour.
import * as net from "node:net";
import { type EngineAddress, engineAddress } from "./engine";

const builds = new Set<{ controller: AbortController; finished: Promise<unknown> }>();
let watchdog: NodeJS.Timeout | undefined;
let stopping = false;

const WATCHDOG_MS = 2_000;
const GRACE_MS = 4_000;

function reachable(addr: EngineAddress): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(addr.port, addr.host);
    sock.setTimeout(1_000);
    sock.once("connect", () => (sock.destroy(), resolve(true)));
    sock.once("timeout", () => (sock.destroy(), resolve(true))); // busy, not gone
    sock.once("error", () => resolve(false));
  });
}

async function abortAll(reason: string, tell = true): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Not when the engine is gone: nobody reads our stderr any more.
  if (tell) process.stderr.write(`vm-images: ${reason}: stopping ${builds.size} build(s)\n`);
  for (const b of builds) b.controller.abort();
  await Promise.race([
    Promise.allSettled([...builds].map((b) => b.finished)),
    new Promise((r) => setTimeout(r, GRACE_MS)),
  ]);
}

/**
 * Whether the engine at `addr` is gone: a refused connection, twice, 200 ms
 * apart (a listening engine never refuses; a busy one times out, which
 * counts as there).
 */
export async function engineGone(addr: EngineAddress): Promise<boolean> {
  if (await reachable(addr)) return false;
  await new Promise((r) => setTimeout(r, 200));
  return !(await reachable(addr));
}

const engineLost = () => void abortAll("the Pulumi engine is gone", false).then(() => process.exit(1));

/**
 * Right before a build puts an image in place: if the engine is gone (the
 * CLI was killed a moment ago, before the watchdog's next look), every
 * build is aborted here, so the caller's signal has fired when this returns.
 */
export async function confirmEngine(): Promise<void> {
  const addr = engineAddress();
  if (addr && !stopping && (await engineGone(addr))) engineLost();
}

const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

const onSignal = (signal: NodeJS.Signals) => {
  // The provider process ends here, as it would have without our handler,
  // once the builds have removed their temp files.
  void abortAll(`received ${signal}`).then(() => process.exit(SIGNAL_EXIT[signal] ?? 1));
};

/**
 * Once the CLI is gone, writes to our stdout and stderr fail with EPIPE;
 * unhandled, those errors loop and starve the event loop, so a build could
 * never finish its cleanup. Dropping them is right: there is no reader.
 */
const ignore = () => {};

function install() {
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.stdout.on("error", ignore);
  process.stderr.on("error", ignore);
  const addr = engineAddress();
  if (addr) {
    let misses = 0;
    watchdog = setInterval(() => {
      void reachable(addr).then((ok) => {
        misses = ok ? 0 : misses + 1;
        if (misses >= 2) engineLost();
      });
    }, WATCHDOG_MS);
    watchdog.unref();
  }
}

function uninstall() {
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  process.stdout.off("error", ignore);
  process.stderr.off("error", ignore);
  if (watchdog) clearInterval(watchdog);
  watchdog = undefined;
}

/** Run `work` with an abort signal that fires when the provider is interrupted. */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  // Once shutdown has started, a build that was waiting for its turn never starts (and touches no file).
  if (stopping) throw new Error("the provider is shutting down: the build was not started");
  if (builds.size === 0) install();
  const controller = new AbortController();
  const finished = work(controller.signal);
  const entry = { controller, finished };
  builds.add(entry);
  try {
    return await finished;
  } finally {
    builds.delete(entry);
    if (builds.size === 0 && !stopping) uninstall();
  }
}

/** At most `n` builds at once in this process: parallel appliance builds on a small host only thrash. */
export function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await work();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
