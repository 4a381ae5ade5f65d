// upload: copy one local file to a path in the image.
//
//   lvh:         { "type": "upload", "op": { "File": "env.sh", "Dest": "/etc/profile.d/env.sh" } }
//   TypeScript:  { type: "upload", file: "env.sh", dest: "/etc/profile.d/env.sh" }
//
// Fields: File (required), a file on the build host, relative to the images
// file's directory; Dest (required), the path it gets in the image, or a
// directory of the image to put it in under its own name. It keeps its
// mode and owner, as virt-customize keeps them. Its content, mode and owner
// are part of the build key.
// virt-customize: --upload FILE:DEST.
import * as path from "node:path";
import { z } from "zod";
import { comment, defineAction, guestPath, hostPath } from "./fields";

export const upload = defineAction({
  type: "upload",
  lvhFields: { File: "file", Dest: "dest" },
  /** Uploads a local file to a path in the image. @example { type: "upload", file: "env.sh", dest: "/etc/profile.d/env.sh" } */
  schema: z.object({ type: z.literal("upload"), comment, file: hostPath("file"), dest: guestPath("dest") }).strict(),
  localPaths: [{ field: "file", throughLinks: true, keepsOwner: true }],
  customizeArgs: (a, ctx) => [["--upload", `${ctx.resolve(a.file)}:${a.dest}`]],
  guestOps: (a, ctx) => {
    const file = ctx.resolve(a.file);
    const { mode, uid, gid } = ctx.modeOf(file);
    return [{
      op: "script", script: "upload.sh", stdinFile: file,
      args: [a.dest, path.basename(file), (mode & 0o7777).toString(8), String(uid), String(gid)],
    }];
  },
});
