// The rules lvh gives an image by its configuration: its format from its
// file name, whether it is a root (made by mmdebstrap) or derived, whether it
// boots, and its default size.
import * as path from "node:path";

/** The disk size of a root image without `image_size`, as in lvh. */
export const DEFAULT_SIZE = "8G";

/** lvh's rule: `.qcow2` is qcow2, anything else raw. */
export function imageFormat(name: string): "raw" | "qcow2" {
  return path.extname(name) === ".qcow2" ? "qcow2" : "raw";
}

/** What these rules read of an image's configuration. */
interface ImageShape {
  parent?: string;
  bootable?: boolean;
}

/** Whether the image is built from scratch (mmdebstrap) rather than from a parent's disk. */
export function isRootBuild(image: ImageShape): boolean {
  return image.parent === undefined;
}

/** lvh's default: root images on amd64 are bootable unless told otherwise. */
export function isBootable(image: ImageShape): boolean {
  return isRootBuild(image) && image.bootable !== false;
}
