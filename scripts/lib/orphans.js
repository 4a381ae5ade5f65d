// What a killed Pulumi CLI leaves running. The CLI starts its language host
// (pulumi-language-nodejs) and ends it when it exits, but not when it is
// killed: the host, a gRPC server, then waits forever for an engine that is
// gone. Such a host is found by what only it has: it is a plugin (pulumi-*)
// run from the CLI's directory, in our session (the CLI gives each plugin a
// process group of its own, in the session it shares with us), whose parent
// is no longer a process from that directory (it was reparented when the
// CLI died). A host another CLI of the same session still uses keeps its
// parent, and a CLI is no plugin.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

/** Fields of /proc/PID/stat after the command name: [state, ppid, pgrp, session, ...]. */
function statOf(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** The program a process runs, as its command line names it. */
function programOf(pid) {
  return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0];
}

/**
 * End (SIGTERM) the processes a killed CLI of `cliDir` left in our session.
 * Returns their PIDs. Linux only; elsewhere, or without /proc, none.
 */
function endOrphanedPlugins(cliDir) {
  const fromCli = (program) => path.dirname(program) === cliDir;
  const plugin = (program) => fromCli(program) && path.basename(program).startsWith("pulumi-");
  let session;
  let pids;
  try {
    session = statOf("self")[3];
    pids = fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const ended = [];
  for (const pid of pids) {
    try {
      const [, ppid, , sid] = statOf(pid);
      if (sid !== session || !plugin(programOf(pid))) continue;
      let parentFromCli = false;
      try {
        parentFromCli = fromCli(programOf(ppid));
      } catch {
        // Parent gone or unreadable: not a CLI.
      }
      if (parentFromCli) continue;
      process.kill(Number(pid), "SIGTERM");
      ended.push(Number(pid));
    } catch {
      // Gone meanwhile.
    }
  }
  return ended;
}

module.exports = { endOrphanedPlugins };
