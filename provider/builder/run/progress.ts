// What the user sees of one image's build on the image's own row: a short
// status that the next one replaces (the step, how far it is where its tool
// says, and the step's elapsed time), and one line that stays per finished
// step, with its time. Tool lines themselves go to the image's log only.
//
// How often the status changes depends on how the CLI shows it: a terminal
// rewrites the row in place, so every couple of seconds feels live; a CI log
// prints every status as a line, so there a step first shows after 30 s and
// then after gaps that double (60 s, 120 s, ...): a few lines per step, however
// slow the machine.

export type Severity = "info" | "warning" | "error";

/** Where progress goes: the engine's log on the image's row (pulumi/), or nowhere. */
export interface ProgressSink {
  /** A status shown on the row until the next one (Pulumi's ephemeral message). */
  status(text: string): void;
  /** A line that stays in the output and in the final diagnostics. */
  note(text: string, severity: Severity): void;
  /** Wait until everything sent so far has been delivered. */
  flush(): Promise<void>;
}

export const NO_PROGRESS: ProgressSink = { status: () => {}, note: () => {}, flush: async () => {} };

export interface Cadence {
  /** A step's first status only once it has run this long. */
  firstAfterMs: number;
  /** At least this long between two statuses. */
  minGapMs: number;
  /** A status whose only change is the elapsed time, at most this often. */
  heartbeatMs: number;
  /** Both gaps grow by this factor after each status of a step. */
  growth: number;
}

/** A terminal's display, which rewrites the row in place. */
export const LIVE: Cadence = { firstAfterMs: 0, minGapMs: 2_000, heartbeatMs: 2_000, growth: 1 };
/** A log's display (non-interactive, CI), which prints every status as a line. */
export const LINES: Cadence = { firstAfterMs: 30_000, minGapMs: 60_000, heartbeatMs: 60_000, growth: 2 };

/** How far a step is, read from its tools' lines. */
interface ToolState {
  detail?: string;
  total?: number;
  unpacked: number;
  setUp: number;
  fetched: number;
}

const fresh = (): ToolState => ({ unpacked: 0, setUp: 0, fetched: 0 });

const of = (n: number, total?: number) => (total && total >= n ? `${n}/${total}` : `${n}`);

/**
 * The progress a tool's line tells, if any: apt's and dpkg's package counts
 * (mmdebstrap and apt-get print the same lines), the initramfs, and the
 * milestones of a booting guest's console.
 */
export function readToolLine(state: ToolState, text: string): void {
  let m: RegExpExecArray | null;
  if ((m = /\b(\d+) newly installed\b/.exec(text))) {
    state.total = Number(m[1]);
    state.unpacked = state.setUp = state.fetched = 0;
  } else if ((m = /^Get:(\d+) /.exec(text))) {
    state.fetched = Number(m[1]);
    state.detail = `downloading ${of(state.fetched, state.total)}`;
  } else if (/^Unpacking \S+/.test(text)) {
    state.detail = `unpacking ${of(++state.unpacked, state.total)}`;
  } else if (/^Setting up \S+/.test(text)) {
    state.detail = `setting up ${of(++state.setUp, state.total)}`;
  } else if (/^update-initramfs: Generating/.test(text)) {
    state.detail = "building the initramfs";
  } else if (/^I: running --customize-hook/.test(text)) {
    state.detail = "customize hooks";
  } else if (/^Linux version /.test(text)) {
    state.detail = "kernel started";
  } else if (/^(Loading, please wait|Begin: Loading essential drivers)/.test(text)) {
    state.detail = "initramfs";
  } else if ((m = /^Welcome to (.+?)!?$/.exec(text))) {
    state.detail = "systemd started";
  } else if ((m = /Reached target (.+?)\.?$/.exec(text))) {
    state.detail = `reached ${m[1].replace(/ - .*/, "")}`;
  }
}

/** m:ss */
export function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** The progress of one image's build, fed by the pipeline and the tools' lines. */
export class BuildProgress {
  private step?: { name: string; started: number; tool: ToolState; sent: number };
  private lastSent = 0;
  private lastContent?: string;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly sink: ProgressSink,
    private readonly cadence: Cadence,
    private readonly now: () => number = Date.now,
  ) {}

  stepStarted(name: string): void {
    this.step = { name, started: this.now(), tool: fresh(), sent: 0 };
    this.timer ??= setInterval(() => this.tick(), 1_000);
    this.timer.unref?.();
    this.tick();
  }

  stepFinished(name: string, seconds: number): void {
    this.step = undefined;
    this.lastContent = undefined;
    this.sink.note(`${name}: ${seconds.toFixed(1)} s`, "info");
  }

  /** A line of a tool of the running step. */
  toolLine(text: string): void {
    if (this.step) readToolLine(this.step.tool, text);
  }

  warn(text: string): void {
    this.sink.note(text, "warning");
  }

  /** The status the row would show now. */
  content(): string | undefined {
    if (!this.step) return undefined;
    return this.step.tool.detail ? `${this.step.name}: ${this.step.tool.detail}` : this.step.name;
  }

  /** Send the status when the cadence allows: a new content after the minimum gap, or the elapsed time after the heartbeat. */
  tick(): void {
    if (!this.step) return;
    const now = this.now();
    const elapsed = now - this.step.started;
    const sinceLast = now - this.lastSent;
    const content = this.content()!;
    if (elapsed < this.cadence.firstAfterMs) return;
    const scale = this.cadence.growth ** Math.max(0, this.step.sent - 1);
    const gap = content !== this.lastContent ? this.cadence.minGapMs : this.cadence.heartbeatMs;
    // A step's first status waits only for firstAfterMs.
    if (this.step.sent > 0 && sinceLast < gap * scale) return;
    this.step.sent++;
    this.lastSent = now;
    this.lastContent = content;
    this.sink.status(`${content} (${clock(elapsed)})`);
  }

  /** Stop the ticking and deliver what was sent. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sink.flush();
  }
}
