// pulumi-vm-images: Debian VM disk images as Pulumi resources.
export { Image, type ImageArgs, ImageForest, type ImageForestArgs, ImagesManifest, type ImagesManifestArgs } from "./resources";
export { ImageForest as Forest, imageFormat } from "./forest";
export { loadLvhImagesFile } from "./imagesfile";
export * from "./schema";
