// Steps and how they run: in order, each logged with its elapsed time; the
// cleanups of every step that started run afterwards in reverse order,
// whether the build succeeded, failed or was interrupted.
import type { Logger } from "./log";
import type { BuildProgress } from "./progress";
import type { SandboxNetwork } from "../../model/nethost";

export interface BuildContext {
  /** Image name, the prefix of every log line. */
  image: string;
  log: Logger;
  signal: AbortSignal;
  /** The user's view of the build: told when each step starts and ends. */
  progress?: BuildProgress;
  /** What guest code in the direct backend's sandbox may reach; unset: `public`. */
  network?: SandboxNetwork;
  /** The bounds of the build's sandbox runs (sandbox/bounds.ts); unset: none but a 60-minute time limit per run. */
  bounds?: SandboxBounds;
  /**
   * The build's source date (seconds): SOURCE_DATE_EPOCH of its sandbox
   * runs and mmdebstrap, and the time its files are clamped at. Set by the
   * direct backend's first step.
   */
  sourceDateEpoch?: number;
}

/** What the direct backend's sandbox asks of the build's bounds. */
export interface SandboxBounds {
  /** The environment of sh/sandbox-run.sh for a run on a disk of this size (or on the build's tree). */
  sandboxEnv(diskBytes?: number): Promise<Record<string, string>>;
  /** The time a run has left. */
  remainingMs(): number;
  /** After a run that succeeded: an error if it reached a bound all the same. */
  check(): Promise<Error | undefined>;
  /** A failed run's error, naming the bound it reached. */
  explain(err: unknown, diskBytes?: number): Promise<unknown>;
}

export interface Step {
  /** A verb phrase, such as "bootstrap root file system". */
  name: string;
  do(ctx: BuildContext): Promise<void>;
  cleanup?(ctx: BuildContext): Promise<void>;
  /** Asked when the step's turn comes: false skips it (it is neither logged nor timed). */
  when?(): boolean | Promise<boolean>;
}

export interface StepTiming {
  step: string;
  seconds: number;
}

export class InterruptedError extends Error {
  constructor(image: string) {
    super(`image ${JSON.stringify(image)}: build interrupted`);
    this.name = "InterruptedError";
  }
}

/** Run steps in order; returns each step's elapsed time. Cleanup errors are logged and reported, never dropped. */
export async function runSteps(steps: readonly Step[], ctx: BuildContext): Promise<StepTiming[]> {
  const started: Step[] = [];
  const timings: StepTiming[] = [];
  let failure: unknown;
  try {
    for (const step of steps) {
      if (ctx.signal.aborted) throw new InterruptedError(ctx.image);
      if (step.when && !(await step.when())) continue;
      started.push(step);
      const t0 = Date.now();
      ctx.log.line(ctx.image, `step: ${step.name}`);
      ctx.progress?.stepStarted(step.name);
      await step.do(ctx);
      const seconds = (Date.now() - t0) / 1000;
      timings.push({ step: step.name, seconds });
      ctx.log.line(ctx.image, `step: ${step.name}: done in ${seconds.toFixed(1)} s`);
      ctx.progress?.stepFinished(step.name, seconds);
    }
  } catch (err) {
    failure = ctx.signal.aborted && !(err instanceof InterruptedError) ? new InterruptedError(ctx.image) : err;
  }
  const cleanupErrors: string[] = [];
  for (const step of started.reverse()) {
    if (!step.cleanup) continue;
    try {
      await step.cleanup(ctx);
    } catch (err) {
      const msg = `cleanup of "${step.name}" failed: ${(err as Error).message}`;
      ctx.log.line(ctx.image, msg);
      cleanupErrors.push(msg);
    }
  }
  if (failure) {
    if (cleanupErrors.length && failure instanceof Error) failure.message += `\n  ${cleanupErrors.join("\n  ")}`;
    throw failure;
  }
  if (cleanupErrors.length) throw new Error(`image ${JSON.stringify(ctx.image)}: ${cleanupErrors.join("; ")}`);
  return timings;
}
