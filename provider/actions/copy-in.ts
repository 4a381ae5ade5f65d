// copy-in: copy a local file or directory, recursively, into a directory of the image.
//
//   lvh:         { "type": "copy-in", "op": { "LocalPath": "bootstrap", "RemoteDir": "/root" } }
//   TypeScript:  { type: "copy-in", localPath: "bootstrap", remoteDir: "/root" }
//
// Fields: LocalPath (required), a file or directory on the build host,
// relative to the images file's directory; RemoteDir (required), an
// existing directory of the image, which receives it under its own name,
// owned by root. Its content is part of the build key.
// virt-customize: --copy-in LOCALPATH:REMOTEDIR.
import { z } from "zod";
import { comment, defineAction, guestPath, hostPath } from "./fields";

export const copyIn = defineAction({
  type: "copy-in",
  lvhFields: { LocalPath: "localPath", RemoteDir: "remoteDir" },
  /** Copies a local file or directory, recursively, into a directory of the image. @example { type: "copy-in", localPath: "bootstrap", remoteDir: "/root" } */
  schema: z.object({ type: z.literal("copy-in"), comment, localPath: hostPath("localPath"), remoteDir: guestPath("remoteDir") }).strict(),
  localPaths: [{ field: "localPath", throughLinks: false }],
  customizeArgs: (a, ctx) => [["--copy-in", `${ctx.resolve(a.localPath)}:${a.remoteDir}`]],
  guestOps: (a, ctx) => [{ op: "copy-in", from: ctx.resolve(a.localPath), into: a.remoteDir }],
});
