// The per-user cache: downloaded packages and host probes, shared by every
// build and stack of the user. Its directory is defined once, in
// scripts/lib/cachedir.js, which setup also uses for the tools it builds.
import * as path from "node:path";
import { sharedScript } from "../run/packageroot";

const shared = sharedScript<{ cacheDir(): string }>("cachedir.js");

/** `VM_IMAGES_CACHE_DIR`, else `$XDG_CACHE_HOME/pulumi-vm-images`, else `~/.cache/pulumi-vm-images`. */
export function cacheDir(): string {
  return shared.cacheDir();
}

/** Downloaded .deb files, shared by all builds: a rebuild downloads only what is new. */
export function debCacheDir(cache: string): string {
  return path.join(cache, "debs");
}

/**
 * apt's package lists (InRelease, Packages) as the build host's apt fetched
 * them for root images: a later build's apt-get update then downloads only
 * what changed on the mirror. Never written from inside an image.
 */
export function aptListsCacheDir(cache: string): string {
  return path.join(cache, "apt-lists");
}
