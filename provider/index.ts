// pulumi-vm-images: Debian VM disk images as Pulumi resources.
export { Image, type ImageArgs } from "./pulumi/image";
export { ImageForest, type ImageForestArgs } from "./pulumi/forest";
export { ImagesManifest, type ImagesManifestArgs } from "./pulumi/manifest";
export { PulledImage, type PulledImageArgs } from "./pulumi/pull";
export { reportConfigErrors } from "./pulumi/configerrors";
export { Forest } from "./model/forest";
export { DEFAULT_SIZE, imageFormat, isBootable, isRootBuild } from "./model/image";
export { loadLvhImagesFile, readLvhImagesFile } from "./model/imagesfile";
export * from "./model/config";
export { BACKEND_CHOICES, SETTINGS, type SettingName, type SettingValues } from "./model/settings";
export { type LvhImages, parseLvhImages, readLvhImages, toLvhAction, toLvhImage } from "./model/lvh";
export { ACTION_FIELDS, ACTION_TYPES, ACTIONS, ActionSchema as Action, type ActionInput } from "./actions";
