// Pulumi URNs of this package's resources, for `pulumi up --target` and
// `--replace` (lvh's --image and --force-rebuild). Pure.

/** The type chain of an image of the root program: an Image inside the ImageForest component. */
export const IMAGE_TYPE_CHAIN = "vm-images:index:ImageForest$pulumi-nodejs:dynamic/vm-images:Image";

/** The URN of image `name` of the root program's forest in `stack` of `project`. */
export function imageUrn(stack: string, project: string, name: string): string {
  return `urn:pulumi:${stack}::${project}::${IMAGE_TYPE_CHAIN}::${name}`;
}
