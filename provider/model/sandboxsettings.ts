// The settings of what a build may reach and use on the build host: the
// direct backend's network policy, the host directories actions may read.
// Part of the one list of settings (settings.ts), kept here so that list
// stays readable; none is part of the build key, since each changes how an
// image is built, never what it is.
import * as path from "node:path";
import { NETWORK_CHOICES, networkHostsRefusal } from "./nethost";
import { choice, list, type Setting } from "./settingkinds";

export const SANDBOX_SETTINGS = {
  /**
   * Directories on the build host, besides `baseDir`, that local paths of
   * actions may lead to (after links are resolved): absolute paths. /proc,
   * /sys and /dev are never read, even under one of them.
   * @default none
   */
  hostPaths: {
    kind: list("absolute directories"), stack: true, image: "given", forest: true, howOnly: true,
    doc: "directories besides the images file's that the local paths of actions (upload, copy-in, tar-in, install-kernel) may lead to, " +
      "absolute (a list, as `pull`); see [Local paths](configuration.md#local-paths-of-actions)",
    defaultDoc: "none",
    rule: (dirs: string[]) => {
      const relative = dirs.find((d) => !path.isAbsolute(d));
      return relative === undefined ? undefined : `${JSON.stringify(relative)} must be an absolute directory path`;
    },
  },
  // network, allowHosts: unset stays unset in the state.
  /** What the direct backend's sandbox reaches: "public" addresses, only the "mirror" and DNS, or "none". @default "public" */
  network: {
    kind: choice(NETWORK_CHOICES), stack: true, image: "given", forest: true, howOnly: true,
    doc: "what the direct backend's sandbox reaches: `public` addresses, only the `mirror` and DNS, or `none`; never the build host, " +
      "loopback, link-local or private ranges (see [The network policy](sandbox.md#the-network-policy)); not part of the build key",
    defaultDoc: "`public`",
  },
  /** Host names, addresses or CIDRs the sandbox reaches on every port whatever `network` says: a private mirror or proxy. */
  allowHosts: {
    kind: list("host names, addresses or CIDRs"), stack: true, image: "given", forest: true, howOnly: true,
    doc: "host names, addresses or CIDRs the direct backend's sandbox reaches on every port whatever `network` says " +
      "(a private mirror or proxy), and that `followArchive` may fetch package indices from besides the mirror; not part of the build key",
    defaultDoc: "none",
    rule: networkHostsRefusal,
  },
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entry's default is checked against its kind in settings.ts
} as const satisfies Record<string, Setting<any>>;
