// The ImagesManifest resource: a forest's configuration written as lvh's
// images.json. Its provider is manifestprovider.ts.
import * as pulumi from "@pulumi/pulumi";
import type { ManifestInputs } from "../builder/image/manifest";
import type { ImageConfigInput } from "../model/config";
import { forwardingProvider } from "./forwarding";
import { MODULE, TYPES } from "./tokens";

type Args<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** Arguments of {@link ImagesManifest}. */
export type ImagesManifestArgs = Args<Omit<ManifestInputs, "images"> & { images: ImageConfigInput[] }>;

/**
 * A forest's configuration written as `DIR/images.json`, the file
 * `lvh images build --dir DIR` reads: a bare list of images in lvh's
 * spelling. The images are given in the TypeScript spelling and validated
 * (fields, names, parents) at preview.
 *
 * @example
 * new ImagesManifest("manifest", { dir: "_data", images: [{ name: "base.img", packages: ["curl"] }] });
 */
export class ImagesManifest extends pulumi.dynamic.Resource {
  /** Path of the manifest file. */
  declare readonly path: pulumi.Output<string>;
  /** sha256 of its content. */
  declare readonly sha256: pulumi.Output<string>;

  constructor(name: string, args: ImagesManifestArgs, opts?: pulumi.CustomResourceOptions) {
    super(forwardingProvider("manifestProvider"), name, { ...args, path: undefined, sha256: undefined }, opts, MODULE, TYPES.manifest);
  }
}
