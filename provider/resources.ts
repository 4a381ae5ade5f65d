// Pulumi resources of this package. Their providers are one-line forwarders
// into ./provider, required by package name at run time (see provider.ts).
import * as pulumi from "@pulumi/pulumi";
import type { ManifestInputs } from "./manifest";

/** Names of the provider implementations exported by ./provider. */
export type ProviderName = "manifestProvider";

/**
 * A provider whose every method forwards to `./provider`'s `name` export,
 * loaded by package name in the provider process. It serializes to a few
 * hundred bytes and captures nothing but `name`.
 */
export function forwardingProvider(name: ProviderName): pulumi.dynamic.ResourceProvider {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    check: (olds, news) => require("pulumi-vm-images/provider")[name].check(olds, news),
    diff: (id, olds, news) => require("pulumi-vm-images/provider")[name].diff(id, olds, news),
    create: (inputs) => require("pulumi-vm-images/provider")[name].create(inputs),
    read: (id, props) => require("pulumi-vm-images/provider")[name].read(id, props),
    update: (id, olds, news) => require("pulumi-vm-images/provider")[name].update(id, olds, news),
    delete: (id, props) => require("pulumi-vm-images/provider")[name].delete(id, props),
  };
}

type Args<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** Arguments of {@link ImagesManifest}. */
export type ImagesManifestArgs = Args<ManifestInputs>;

/**
 * The forest's configuration saved as `images.json` in the images directory,
 * as `lvh images build` does.
 *
 * @example
 * new ImagesManifest("manifest", { dir: "images", images: [{ name: "base.img", packages: ["curl"] }] });
 */
export class ImagesManifest extends pulumi.dynamic.Resource {
  /** Path of the manifest file. */
  declare readonly path: pulumi.Output<string>;
  /** sha256 of its content. */
  declare readonly sha256: pulumi.Output<string>;

  constructor(name: string, args: ImagesManifestArgs, opts?: pulumi.CustomResourceOptions) {
    super(forwardingProvider("manifestProvider"), name, { ...args, path: undefined, sha256: undefined }, opts, "vm-images", "ImagesManifest");
  }
}
