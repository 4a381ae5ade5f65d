// run-command: run a shell command inside the image, as root.
//
//   lvh:         { "type": "run-command", "op": { "Cmd": "passwd -d root" } }
//   TypeScript:  { type: "run-command", cmd: "passwd -d root" }
//
// Fields: Cmd (required), the command, run by the image's `sh -c` after the
// packages are installed and the earlier actions have run.
// virt-customize: --run-command CMD.
import { z } from "zod";
import { comment, defineAction, text } from "./fields";

export const runCommand = defineAction({
  type: "run-command",
  lvhFields: { Cmd: "cmd" },
  /** Runs a shell command inside the image (as root, `sh -c`). @example { type: "run-command", cmd: "passwd -d root" } */
  schema: z.object({ type: z.literal("run-command"), comment, cmd: text("cmd") }).strict(),
  localPaths: [],
  customizeArgs: (a) => [["--run-command", a.cmd]],
  guestOps: (a) => [{ op: "exec", argv: ["/bin/sh", "-c", a.cmd] }],
});
