// mkdir: create a directory, and its parents, in the image.
//
//   lvh:         { "type": "mkdir", "op": { "Dir": "/etc/ssh/sshd_config.d" } }
//   TypeScript:  { type: "mkdir", dir: "/etc/ssh/sshd_config.d" }
//
// Fields: Dir (required), an absolute path in the image; existing
// directories are fine (mkdir -p).
// virt-customize: --mkdir DIR.
import { z } from "zod";
import { comment, defineAction, guestPath } from "./fields";

export const mkdir = defineAction({
  type: "mkdir",
  lvhFields: { Dir: "dir" },
  /** Creates a directory (and its parents) in the image. @example { type: "mkdir", dir: "/etc/ssh/sshd_config.d" } */
  schema: z.object({ type: z.literal("mkdir"), comment, dir: guestPath("dir") }).strict(),
  localPaths: [],
  customizeArgs: (a) => [["--mkdir", a.dir]],
  guestOps: (a) => [{ op: "exec", argv: ["mkdir", "-p", a.dir] }],
});
