// The dynamic providers' implementations, by the names the state knows them
// by. The resources serialize only one-line forwarders (forwarding.ts) that
// `require()` this module by package name, `pulumi-vm-images/provider`
// (package.json's exports), so the state holds no code of ours and an
// upgrade of this package takes effect on the next operation. Each provider
// lives beside its resource.
export { imageProvider } from "./imageprovider";
export { manifestProvider } from "./manifestprovider";
export { pullProvider } from "./pullprovider";
