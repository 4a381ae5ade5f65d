// The bounds of one image's build with the direct backend: its sandbox runs
// together get at most vm-images:buildMemory of memory, buildTasks processes
// and threads, buildCpus CPUs (a cgroup, cgroup.ts), tmpfs mounts of a
// quarter of the memory each, no file larger than buildFileSize, and
// buildTimeout of wall-clock time. So a package script or an action that
// forks without end, eats memory or fills a disk fails its own image, with
// the bound it reached named, and the host and the other builds go on.
import { durationMs } from "../../model/settingkinds";
import { sizeBytes } from "../../model/sizes";
import { CommandError, MINUTE } from "../run/exec";
import type { Logger } from "../run/log";
import type { SandboxBounds } from "../run/steps";
import { BuildCgroup } from "./cgroup";

/** The settings, as an Image's inputs give them (unset: the default). */
export interface BoundSettings {
  buildMemory?: string;
  buildTasks?: number;
  buildCpus?: number;
  buildTimeout?: string;
  buildFileSize?: string;
}

/** The defaults of the settings (the docs' table says them too: model/boundsettings.ts). */
export const BOUND_DEFAULTS = { buildMemory: "4G", buildTasks: 4096, buildTimeout: "60m" } as const;

const ADVICE = "; raise the setting (stack config, or the Image's input of that name) if the image needs more";

/** SIGXFSZ's exit status, as a shell reports a command the kernel stopped for a file over RLIMIT_FSIZE. */
const FSIZE_STATUS = 128 + 25;

export class BuildBounds implements SandboxBounds {
  readonly memory: string;
  readonly tasks: number;
  readonly cpus?: number;
  readonly timeout: string;
  private readonly deadline: number;
  private cgroup?: Promise<BuildCgroup | string>;

  constructor(
    private readonly image: string,
    private readonly settings: BoundSettings,
    private readonly log: Logger,
    /** The disk's size of a build whose runs see a directory, not the disk (a root image's tree). */
    private readonly diskBytes?: number,
  ) {
    this.memory = settings.buildMemory ?? BOUND_DEFAULTS.buildMemory;
    this.tasks = settings.buildTasks ?? BOUND_DEFAULTS.buildTasks;
    this.cpus = settings.buildCpus;
    this.timeout = settings.buildTimeout ?? BOUND_DEFAULTS.buildTimeout;
    this.deadline = Date.now() + durationMs(this.timeout);
  }

  /** Each tmpfs of a run (/run, /dev/shm): a quarter of the memory, so that filling them fails on space before it fails on memory. */
  get tmpfsBytes(): number {
    return Math.floor(sizeBytes(this.memory) / 4);
  }

  /** The file-size limit: the setting, else the disk's size (no file of the image can be larger). */
  fileSizeBytes(diskBytes = this.diskBytes): number | undefined {
    return this.settings.buildFileSize ? sizeBytes(this.settings.buildFileSize) : diskBytes;
  }

  /** The time a run has left: what is left of the build's. */
  remainingMs(): number {
    return Math.max(1000, this.deadline - Date.now());
  }

  /**
   * The environment of sh/sandbox-run.sh: the cgroup directories to join,
   * the tmpfs size, the file-size limit. The cgroup is made at the first
   * run; where none can be made, the log says so once and the build goes on
   * with the other bounds (the direct backend's other rules still hold, and
   * a host without writable cgroups, a container, can still build).
   */
  async sandboxEnv(diskBytes?: number): Promise<Record<string, string>> {
    this.cgroup ??= BuildCgroup.create({ memoryBytes: sizeBytes(this.memory), tasks: this.tasks, cpus: this.cpus }).then((made) => {
      if (typeof made === "string") this.log.line(this.image, `no cgroup for the build (${made}): its memory, tasks and CPUs are not bounded`);
      else this.log.line(this.image, `bounds: memory ${this.memory}, tasks ${this.tasks}, CPUs ${this.cpus ?? "all"} (cgroup v${made.version} ${made.dirs.join(" ")})`);
      return made;
    });
    const made = await this.cgroup;
    const fsize = this.fileSizeBytes(diskBytes);
    return {
      VM_IMAGES_TMPFS_SIZE: String(this.tmpfsBytes),
      ...(typeof made === "string" ? {} : { VM_IMAGES_CGROUPS: made.dirs.join(" ") }),
      ...(fsize ? { VM_IMAGES_FILE_SIZE: String(fsize) } : {}),
    };
  }

  /** What the cgroup saw so far: a process killed for want of memory, a fork refused for want of tasks. */
  private async cgroupReasons(): Promise<string[]> {
    const made = this.cgroup && await this.cgroup;
    const reached = typeof made === "object" ? made.reached() : { memory: false, tasks: false };
    return [
      ...(reached.memory ? [`the build reached its memory bound (${this.memory}, vm-images:buildMemory): the kernel killed a process for want of memory`] : []),
      ...(reached.tasks ? [`the build reached its tasks bound (${this.tasks}, vm-images:buildTasks): a fork failed for want of tasks`] : []),
    ];
  }

  /**
   * After a run that succeeded: an error if it reached the memory or tasks
   * bound all the same. A package script may let a failed fork or a killed
   * process pass, and the image would then lack what it did not do.
   */
  async check(): Promise<Error | undefined> {
    const why = await this.cgroupReasons();
    return why.length ? new Error(`${why.join("; ")}, though the command went on to succeed${ADVICE}`) : undefined;
  }

  /** A failed run's error, with the bound it reached named first, if it reached one. */
  async explain(err: unknown, diskBytes?: number): Promise<unknown> {
    if (!(err instanceof CommandError) || err.stopped === "interrupted") return err;
    const tail = err.stderrTail.join("\n");
    const why = await this.cgroupReasons();
    if (err.exitCode === FSIZE_STATUS || /File size limit exceeded|File too large|received signal 25\b/.test(tail)) {
      why.push(`a file reached the build's file-size bound (${this.fileSizeBytes(diskBytes)} bytes, vm-images:buildFileSize)`);
    }
    if (/(\/run|\/dev\/shm)\b.*No space left on device/.test(tail)) {
      why.push(`the sandbox's /run or /dev/shm is full: each holds ${this.tmpfsBytes} bytes, a quarter of vm-images:buildMemory (${this.memory})`);
    }
    if (err.stopped === "timed out") why.push(`the build reached its time bound (${this.timeout}, vm-images:buildTimeout)`);
    if (!why.length) return err;
    return new CommandError(`${why.join("; ")}${ADVICE}\n  ${err.message}`, err.exitCode, err.stderrTail, err.stopped);
  }

  /** Remove the cgroup, once every run has ended. */
  async close(): Promise<void> {
    const made = this.cgroup && await this.cgroup;
    if (typeof made !== "object") return;
    const left = await made.remove();
    if (left.length) this.log.line(this.image, `could not remove the build's cgroup ${left.join(" ")}`);
  }
}

/**
 * One sandbox run of a build, under the build's bounds where it has any:
 * `start` gets their environment and what is left of the build's time; a
 * failure names the bound it reached, and a run that succeeded all the same
 * after reaching the memory or tasks bound fails.
 */
export async function withinBounds<T>(
  bounds: SandboxBounds | undefined, diskBytes: number | undefined, start: (env: Record<string, string>, timeoutMs: number) => Promise<T>,
): Promise<T> {
  const env = bounds ? await bounds.sandboxEnv(diskBytes) : {};
  let out: T;
  try {
    out = await start(env, bounds?.remainingMs() ?? 60 * MINUTE);
  } catch (err) {
    throw bounds ? await bounds.explain(err, diskBytes) : err;
  }
  const reached = await bounds?.check();
  if (reached) throw reached;
  return out;
}
