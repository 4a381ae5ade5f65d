// The provider code Pulumi stores in the state: forwarders that load this
// package by name in the provider process and call its implementation, so
// the state holds a few hundred bytes and no path of this machine.
import type * as pulumi from "@pulumi/pulumi";

/** Names of the provider implementations exported by `pulumi-vm-images/provider` (providers.ts). */
export type ProviderName = "manifestProvider" | "imageProvider" | "pullProvider";

/**
 * A provider whose every method forwards to `pulumi-vm-images/provider`'s `name` export,
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
