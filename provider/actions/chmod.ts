// chmod: change the mode of a file in the image.
//
//   lvh:         { "type": "chmod", "op": { "Permissions": "0755", "File": "/usr/local/bin/run.sh" } }
//   TypeScript:  { type: "chmod", permissions: "0755", file: "/usr/local/bin/run.sh" }
//
// Fields: Permissions (required), an octal mode such as 0755; File
// (required), an absolute path in the image. A mode is octal whether or not
// it starts with 0, in both backends: virt-customize reads "755" as the
// decimal 755 (mode 01363), which no lvh user meant, so it is given "0755"
// and the images file gets a warning.
// virt-customize: --chmod 0PERMISSIONS:FILE.
import { z } from "zod";
import { comment, defineAction, guestPath, text } from "./fields";

/** The mode with its leading 0, which virt-customize needs to read it as octal. */
const octal = (permissions: string) => (permissions.startsWith("0") ? permissions : `0${permissions}`);

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
  customizeArgs: (a) => [["--chmod", `${octal(a.permissions)}:${a.file}`]],
  guestOps: (a) => [{ op: "exec", argv: ["chmod", octal(a.permissions), a.file] }],
  warnings: (a) => a.permissions.startsWith("0") ? [] : [
    `chmod ${a.permissions} ${a.file}: read as the octal mode ${octal(a.permissions)}; lvh (virt-customize) reads a mode ` +
      `without a leading 0 as decimal (${a.permissions} = 0${Number(a.permissions).toString(8)}); write ${octal(a.permissions)} to say so`,
  ],
});
