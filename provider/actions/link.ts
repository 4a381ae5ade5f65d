// link: create symbolic links in the image.
//
//   lvh:         { "type": "link", "op": { "Target": "/usr/bin/vim.basic", "Link": "/usr/local/bin/vi" } }
//   TypeScript:  { type: "link", target: "/usr/bin/vim.basic", link: "/usr/local/bin/vi:/usr/local/bin/ex" }
//
// Fields: Target (required), what the links point at; Link (required), the
// path of the link, or several separated by ':' (virt-customize's
// TARGET:LINK[:LINK..]); each is replaced if it exists (ln -sf).
// virt-customize: --link TARGET:LINK[:LINK..].
import { z } from "zod";
import { comment, defineAction, guestPath, text } from "./fields";

/** The links of a `link` field: absolute paths separated by ':'. */
const linksOf = (link: string) => link.split(":");

export const link = defineAction({
  type: "link",
  lvhFields: { Target: "target", Link: "link" },
  /** Creates symbolic links (one, or several separated by ':') pointing at `target` in the image. @example { type: "link", target: "/usr/bin/vim.basic", link: "/usr/local/bin/vi" } */
  schema: z.object({
    type: z.literal("link"), comment, target: guestPath("target"),
    link: text("link").refine((s) => linksOf(s).every((l) => l.startsWith("/")),
      "link must be absolute paths inside the image, separated by ':'"),
  }).strict(),
  localPaths: [],
  customizeArgs: (a) => [["--link", `${a.target}:${a.link}`]],
  guestOps: (a) => linksOf(a.link).map((l) => ({ op: "exec" as const, argv: ["ln", "-sf", a.target, l] })),
});
