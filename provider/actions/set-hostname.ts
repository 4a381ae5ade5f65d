// set-hostname: set the image's host name.
//
//   lvh:         { "type": "set-hostname", "op": { "Hostname": "kind-node" } }
//   TypeScript:  { type: "set-hostname", hostname: "kind-node" }
//
// Fields: Hostname (required), an RFC 1123 host name. Written to
// /etc/hostname, and the old name replaced by it in /etc/hosts, as
// virt-customize does on Debian.
// virt-customize: --hostname HOSTNAME.
import { z } from "zod";
import { comment, defineAction, text } from "./fields";

const HOSTNAME_PATTERN = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

export const setHostname = defineAction({
  type: "set-hostname",
  lvhFields: { Hostname: "hostname" },
  /** Sets the image's hostname. @example { type: "set-hostname", hostname: "kind-node" } */
  schema: z.object({
    type: z.literal("set-hostname"), comment,
    hostname: text("hostname").refine((s) => HOSTNAME_PATTERN.test(s), "hostname must be a valid host name (RFC 1123)"),
  }).strict(),
  localPaths: [],
  customizeArgs: (a) => [["--hostname", a.hostname]],
  guestOps: (a) => [{ op: "script", script: "set-hostname.sh", args: [a.hostname] }],
});
