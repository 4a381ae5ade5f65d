// What a backend is given to build one image, and what it returns: the steps.
import type { ImageConfig } from "../../model/config";
import type { Step } from "../run/steps";

export interface BackendBuild {
  image: ImageConfig;
  format: "raw" | "qcow2";
  /** Where the backend writes the image; renamed into place by the caller on success. */
  target: string;
  /** Scratch directory for the build, removed by the caller. */
  workDir: string;
  /** The parent image file, for a derived image. */
  parentPath?: string;
  /** The Debian architecture the image is built for (vm-images:arch). */
  arch: string;
  suite: string;
  mirror?: string;
  /** The mirror is a snapshot (vm-images:snapshot): its Release files' Valid-Until has passed, and apt is told so. */
  snapshot?: boolean;
  /** Directory that relative local paths of actions are resolved against. */
  baseDir: string;
  /** Directories besides baseDir that local paths of actions may lead to (the hostPaths setting). */
  hostPaths: readonly string[];
  mergeSteps: boolean;
  /** Environment for libguestfs tools (acceleration settings). */
  guestfsEnv: Record<string, string>;
  /** Per-user cache directory (package downloads). */
  cacheDir: string;
  /** What the steps found out about the image, for the boot check. */
  facts: BuildFacts;
}

export interface BuildFacts {
  /** The image has sshd (its host keys are made at first boot): set by the last step. */
  sshd?: boolean;
  /** What its dpkg database and apt sources said at the end (sh/installed-packages.sh): set by the last step; unset where it has no shell. */
  packagesReport?: string;
}

export interface Backend {
  readonly name: "guestfs" | "direct";
  steps(build: BackendBuild): Step[];
}
