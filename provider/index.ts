// pulumi-vm-images: Debian VM disk images as Pulumi resources.
export { ImagesManifest, type ImagesManifestArgs } from "./resources";
