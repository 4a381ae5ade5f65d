// link: create a symbolic link in the image.
//
//   lvh:         { "type": "link", "op": { "Target": "/usr/bin/vim.basic", "Link": "/usr/local/bin/vi" } }
//   TypeScript:  { type: "link", target: "/usr/bin/vim.basic", link: "/usr/local/bin/vi" }
//
// Fields: Target (required), what the link points at; Link (required), the
// path of the link, replaced if it exists (ln -sf).
// virt-customize: --link TARGET:LINK.
import { z } from "zod";
import { comment, defineAction, guestPath } from "./fields";

export const link = defineAction({
  type: "link",
  lvhFields: { Target: "target", Link: "link" },
  /** Creates a symbolic link `link` pointing at `target` in the image. @example { type: "link", target: "/usr/bin/vim.basic", link: "/usr/local/bin/vi" } */
  schema: z.object({ type: z.literal("link"), comment, target: guestPath("target"), link: guestPath("link") }).strict(),
  localPaths: [],
  customizeArgs: (a) => [["--link", `${a.target}:${a.link}`]],
  guestOps: (a) => [{ op: "exec", argv: ["ln", "-sf", a.target, a.link] }],
});
