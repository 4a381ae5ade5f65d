// chmod: change the mode of a file in the image.
//
//   lvh:         { "type": "chmod", "op": { "Permissions": "0755", "File": "/usr/local/bin/run.sh" } }
//   TypeScript:  { type: "chmod", permissions: "0755", file: "/usr/local/bin/run.sh" }
//
// Fields: Permissions (required), an octal mode such as 0755; File
// (required), an absolute path in the image.
// virt-customize: --chmod PERMISSIONS:FILE.
import { z } from "zod";
import { comment, defineAction, guestPath, text } from "./fields";

export const chmod = defineAction({
  type: "chmod",
  lvhFields: { Permissions: "permissions", File: "file" },
  /** Changes a file's mode in the image; permissions are octal. @example { type: "chmod", permissions: "0755", file: "/usr/local/bin/run.sh" } */
  schema: z.object({
    type: z.literal("chmod"), comment,
    permissions: text("permissions").refine((s) => /^0?[0-7]{3,4}$/.test(s), "permissions must be an octal mode such as 0755"),
    file: guestPath("file"),
  }).strict(),
  localPaths: [],
  customizeArgs: (a) => [["--chmod", `${a.permissions}:${a.file}`]],
  guestOps: (a) => [{ op: "exec", argv: ["chmod", a.permissions, a.file] }],
});
