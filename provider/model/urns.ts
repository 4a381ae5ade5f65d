// Pulumi URNs of this package's resources, for `pulumi up --target` and
// `--replace` (lvh's --image and --force-rebuild). Pure.

/** The type of the root program's ImageForest component, named "images", and of an Image inside it. */
export const FOREST_TYPE = "vm-images:index:ImageForest";
export const FOREST_NAME = "images";
export const IMAGE_TYPE_CHAIN = `${FOREST_TYPE}$pulumi-nodejs:dynamic/vm-images:Image`;

/** The URN of the root program's forest component: a parent of every image, so a --target list needs it on first build. */
export function forestUrn(stack: string, project: string): string {
  return `urn:pulumi:${stack}::${project}::${FOREST_TYPE}::${FOREST_NAME}`;
}

/** The URN of image `name` of the root program's forest in `stack` of `project`. */
export function imageUrn(stack: string, project: string, name: string): string {
  return `urn:pulumi:${stack}::${project}::${IMAGE_TYPE_CHAIN}::${name}`;
}
