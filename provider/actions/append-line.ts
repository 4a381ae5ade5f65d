// append-line: append a line to a file in the image.
//
//   lvh:         { "type": "append-line", "op": { "File": "/etc/hosts", "Line": "10.0.0.2 peer" } }
//   TypeScript:  { type: "append-line", file: "/etc/hosts", line: "10.0.0.2 peer" }
//
// Fields: File (required), an absolute path in the image, created if
// missing; Line (required), one line of text (may be empty). A newline is
// added first when the file does not end with one, as virt-customize does.
// virt-customize: --append-line FILE:LINE.
import { z } from "zod";
import { comment, defineAction, guestPath } from "./fields";

export const appendLine = defineAction({
  type: "append-line",
  lvhFields: { File: "file", Line: "line" },
  /** Appends a line to a file in the image, creating it if needed. @example { type: "append-line", file: "/etc/hosts", line: "10.0.0.2 peer" } */
  schema: z.object({
    type: z.literal("append-line"), comment, file: guestPath("file"),
    line: z.string({ required_error: "line is required" }).refine((s) => !/[\n\0]/.test(s), "line must be a single line"),
  }).strict(),
  localPaths: [],
  customizeArgs: (a) => [["--append-line", `${a.file}:${a.line}`]],
  guestOps: (a) => [{ op: "script", script: "append-line.sh", args: [a.file, a.line] }],
});
