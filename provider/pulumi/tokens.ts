// The type tokens of this package's resources, in one place: a dynamic
// resource's type is `pulumi-nodejs:dynamic/<module>:<type>`, and its URN
// (which the state keeps) is built from it, so none of these may change.

/** The module every dynamic resource of this package registers under. */
export const MODULE = "vm-images";

export const TYPES = { image: "Image", manifest: "ImagesManifest", pull: "PulledImage" } as const;

/** The full type token of a dynamic resource, as it appears in its URN. */
export function dynamicType(type: (typeof TYPES)[keyof typeof TYPES]): string {
  return `pulumi-nodejs:dynamic/${MODULE}:${type}`;
}

/** The type token of the ImageForest component. */
export const FOREST_TYPE = `${MODULE}:index:ImageForest`;
