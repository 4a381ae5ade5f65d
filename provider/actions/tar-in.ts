// tar-in: unpack a local tar archive into a directory of the image.
//
//   lvh:         { "type": "tar-in", "op": { "TarFile": "rootfs-extra.tar", "RemoteDir": "/" } }
//   TypeScript:  { type: "tar-in", tarFile: "rootfs-extra.tar", remoteDir: "/" }
//
// Fields: TarFile (required), an archive on the build host (tar detects its
// compression), relative to the images file's directory; RemoteDir
// (required), created if missing. Its content is part of the build key.
// virt-customize has no --tar-in: the archive is uploaded to a scratch path,
// unpacked by the image's tar and removed.
import * as path from "node:path";
import { z } from "zod";
import { comment, defineAction, guestPath, hostPath, shQuote } from "./fields";

export const tarIn = defineAction({
  type: "tar-in",
  lvhFields: { TarFile: "tarFile", RemoteDir: "remoteDir" },
  /** Unpacks a local tar archive into a directory of the image. @example { type: "tar-in", tarFile: "rootfs-extra.tar", remoteDir: "/" } */
  schema: z.object({ type: z.literal("tar-in"), comment, tarFile: hostPath("tarFile"), remoteDir: guestPath("remoteDir") }).strict(),
  localPaths: [{ field: "tarFile", throughLinks: true }],
  customizeArgs: (a, ctx) => {
    const scratch = ctx.scratch(path.basename(a.tarFile));
    return [
      ["--upload", `${ctx.resolve(a.tarFile)}:${scratch}`],
      ["--run-command", `mkdir -p ${shQuote(a.remoteDir)} && tar -xpf ${shQuote(scratch)} -C ${shQuote(a.remoteDir)} && rm -f ${shQuote(scratch)}`],
    ];
  },
  guestOps: (a, ctx) => [{ op: "script", script: "tar-in.sh", args: [a.remoteDir], stdinFile: ctx.resolve(a.tarFile) }],
});
