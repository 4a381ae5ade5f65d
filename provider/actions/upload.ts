// upload: copy one local file to a path in the image.
//
//   lvh:         { "type": "upload", "op": { "File": "env.sh", "Dest": "/etc/profile.d/env.sh" } }
//   TypeScript:  { type: "upload", file: "env.sh", dest: "/etc/profile.d/env.sh" }
//
// Fields: File (required), a file on the build host, relative to the images
// file's directory; Dest (required), the path it gets in the image. Its
// content is part of the build key.
// virt-customize: --upload FILE:DEST.
import { z } from "zod";
import { comment, defineAction, guestPath, hostPath } from "./fields";

export const upload = defineAction({
  type: "upload",
  lvhFields: { File: "file", Dest: "dest" },
  /** Uploads a local file to a path in the image. @example { type: "upload", file: "env.sh", dest: "/etc/profile.d/env.sh" } */
  schema: z.object({ type: z.literal("upload"), comment, file: hostPath("file"), dest: guestPath("dest") }).strict(),
  localPaths: [{ field: "file", throughLinks: true }],
  customizeArgs: (a, ctx) => [["--upload", `${ctx.resolve(a.file)}:${a.dest}`]],
  guestOps: (a, ctx) => [{ op: "script", script: "upload.sh", args: [a.dest], stdinFile: ctx.resolve(a.file) }],
});
