// The PulledImage resource: a published lvh image pulled into an images
// directory. Its provider is pullprovider.ts.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { forwardingProvider } from "./forwarding";
import { MODULE, TYPES } from "./tokens";

/** Arguments of {@link PulledImage}. */
export interface PulledImageArgs {
  /** A published lvh image. @example "quay.io/lvh-images/kind:6.6-main" */
  ref: pulumi.Input<string>;
  /** The images directory its files land in. */
  dir: pulumi.Input<string>;
  /** os/arch[/variant] to pull: a multi-platform image's entry for it; a single-platform image of another is refused (an ImageForest gives its vm-images:arch's). @default the host's, such as "linux/amd64" */
  platform?: pulumi.Input<string>;
  /** Plain HTTP or unverified TLS for a registry not on loopback. @default false */
  insecureRegistry?: pulumi.Input<boolean>;
  /** File names of images built in the same directory: pulling one of them fails instead of overwriting it. @default [] */
  builds?: pulumi.Input<string[]>;
  /** Overlays made standalone files, as lvh expects them (vm-images:flatten). @default false */
  flatten?: pulumi.Input<boolean>;
}

/**
 * A published lvh image (`/data/images/<name>.zst` in its layers) pulled
 * into an images directory, as `lvh images pull` does, without a Docker
 * daemon. It records the manifest digest: when the tag moves, `pulumi
 * preview` shows it replaced ("REF now points to DIGEST"), and the images
 * derived from its files with it.
 *
 * @example
 * const kind = new PulledImage("kind", { ref: "quay.io/lvh-images/kind:6.6-main", dir: "_data/images" });
 */
export class PulledImage extends pulumi.dynamic.Resource {
  /** The manifest digest the files came from. */
  declare readonly digest: pulumi.Output<string>;
  /** repository@digest. */
  declare readonly pinned: pulumi.Output<string>;
  /** The file names of the images it holds. */
  declare readonly images: pulumi.Output<string[]>;
  /** Why it would be pulled again, such as "REF now points to sha256:...". */
  declare readonly pullReasons: pulumi.Output<string[]>;

  constructor(name: string, args: PulledImageArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ref: args.ref,
      dir: pulumi.output(args.dir).apply((d) => path.resolve(d)),
      platform: args.platform,
      insecureRegistry: args.insecureRegistry,
      builds: args.builds,
      flatten: args.flatten,
      digest: undefined, pullReasons: undefined, pinned: undefined, images: undefined, files: undefined,
    };
    const hideDiffs = ["pinned", "images", "files", ...(opts?.hideDiffs ?? [])];
    super(forwardingProvider("pullProvider"), name, props, { ...opts, hideDiffs }, MODULE, TYPES.pull);
  }
}
