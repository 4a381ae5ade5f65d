// What /proc says of a process: alive or not, its state and parent, its
// children, its command line. Each reader answers undefined (or []) for a
// process that is gone or cannot be read, never throws.
import * as fs from "node:fs";

/** Whether `pid` exists (a process we may not signal exists too). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The fields of /proc/PID/stat after the command name, which may itself
 * hold spaces and parentheses: [state, ppid, pgrp, session, ...].
 */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** The one-letter state of `pid` (R, S, D, Z, ...). */
export function processState(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

/** The parent process id of `pid`. */
export function parentOf(pid: number): number | undefined {
  const ppid = statFields(pid)?.[1];
  return ppid === undefined ? undefined : Number(ppid);
}

/** Whether `pid` has ended (gone, or a zombie: its files are closed). */
export function ended(pid: number): boolean {
  const state = processState(pid);
  return state === undefined || state === "Z";
}

/** The child processes of `pid` (of its main thread). */
export function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The command line of `pid`, one string per argument. */
export function commandLine(pid: number): string[] | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
  } catch {
    return undefined;
  }
}
