// Pulumi resources of this package. Their providers are one-line forwarders
// into ./providers, required by package name at run time (see forwarding.ts).
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { hostFacts } from "../build/host";
import type { ManifestInputs } from "../build/manifest";
import { checkImageInputs, type ImageInputs } from "../model/check";
import { type Action, configWarnings, type ImageConfigInput } from "../model/config";
import { Forest } from "../model/forest";
import { readLvhImagesFile } from "../model/imagesfile";
import { settingOf, type SettingName, SETTINGS, settingsWhere, type SettingsWith, type SettingValues } from "../model/settings";
import { forwardingProvider } from "./forwarding";

type Args<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** Arguments of {@link ImagesManifest}. */
export type ImagesManifestArgs = Args<Omit<ManifestInputs, "images"> & { images: ImageConfigInput[] }>;

/**
 * A forest's configuration written as `DIR/images.json`, the file
 * `lvh images build --dir DIR` reads: a bare list of images in lvh's
 * spelling. The images are given in the TypeScript spelling and validated
 * (fields, names, parents) at preview.
 *
 * @example
 * new ImagesManifest("manifest", { dir: "_data", images: [{ name: "base.img", packages: ["curl"] }] });
 */
export class ImagesManifest extends pulumi.dynamic.Resource {
  /** Path of the manifest file. */
  declare readonly path: pulumi.Output<string>;
  /** sha256 of its content. */
  declare readonly sha256: pulumi.Output<string>;

  constructor(name: string, args: ImagesManifestArgs, opts?: pulumi.CustomResourceOptions) {
    super(forwardingProvider("manifestProvider"), name, { ...args, path: undefined, sha256: undefined }, opts, "vm-images", "ImagesManifest");
  }
}

/** Properties of an Image that are outputs of its build, not inputs. */
const IMAGE_OUTPUTS_ONLY = [
  "accel", "allocatedBytes", "buildSeconds", "builtAt", "format", "identity", "logFile", "path", "sizeBytes", "stepSeconds",
  "source", "published", "publishedTag", "publishError",
];

/** Inputs that change how an image is built or shown, never what it is: no diff, no rebuild. */
const IMAGE_HOW_ONLY = [...settingsWhere({ howOnly: true }), "__urn"];

/** The settings an Image takes (settings.ts), and those a forest passes on to each of its images. */
const IMAGE_SETTINGS = settingsWhere({ image: ["required", "defaulted", "given"] });
const FOREST_IMAGE_SETTINGS = settingsWhere({ image: ["required", "defaulted", "given"], forest: true });

/** Settings as `pulumi.Input`s, each documented in settings.ts. */
type SettingInputs<N extends SettingName> = { [K in keyof Pick<SettingValues, N>]: pulumi.Input<SettingValues[K]> };

/** The type token of Image: `pulumi-nodejs:dynamic/<module>:<type>` of a dynamic resource. */
const IMAGE_TYPE = "pulumi-nodejs:dynamic/vm-images:Image";

/**
 * A resource's URN as a plain value. Taking `parent.urn` itself would make the
 * image depend on its parent, and depending on a component means waiting for
 * all its children: the image would wait for itself.
 */
function urnWithoutDependency(resource: pulumi.Resource): Promise<string> {
  return new Promise((resolve) => resource.urn.apply((urn) => resolve(urn)));
}

/** Arguments of {@link Image}: its configuration and its settings (see settings.ts for each). */
export interface ImageArgs
  extends SettingInputs<SettingsWith<{ image: "required" }>>, Partial<SettingInputs<SettingsWith<{ image: "defaulted" | "given" }>>> {
  /** File name of the image; `.qcow2` means qcow2, anything else raw. @example "base.img" */
  name: pulumi.Input<string>;
  /**
   * The image this one is derived from: another `Image` (built first), or the
   * file name of an existing image in `dir`. Unset: a root image, made by mmdebstrap.
   */
  parent?: Image | string;
  /** Disk size in qemu's syntax. @default "8G" for a root image; a derived image keeps its parent's size. */
  size?: pulumi.Input<string>;
  /** Root images only: partition table, kernel and boot loader. @default true */
  bootable?: pulumi.Input<boolean>;
  /** Debian packages to install. @default [] @example ["curl", "iproute2"] */
  packages?: pulumi.Input<pulumi.Input<string>[]>;
  /** Actions, run in order after the packages. @default [] @example [{ type: "run-command", cmd: "passwd -d root" }] */
  actions?: pulumi.Input<Action[]>;
  /**
   * For a parent given by file name: what identifies its content, such as a
   * {@link PulledImage}'s digest; a change rebuilds this image.
   * @default the parent file's identity on disk
   */
  parentKey?: pulumi.Input<string | undefined>;
}

/**
 * An Image's settings as its inputs: a path absolute, an unset setting the
 * Image defaults given its default, the others as given.
 */
function imageSettings(args: ImageArgs): Record<string, pulumi.Input<unknown> | undefined> {
  return Object.fromEntries(IMAGE_SETTINGS.map((name) => {
    const setting = settingOf(name);
    const given = args[name] as pulumi.Input<unknown> | undefined;
    const value = given ?? (setting.image === "defaulted" ? setting.default : undefined);
    return [name, setting.kind.isPath && value !== undefined ? pulumi.output(value as string).apply((d) => path.resolve(d)) : value];
  }));
}

/**
 * A Debian VM disk image, built by `pulumi up` and rebuilt exactly when its
 * build key changes: its configuration, the content of any local file its
 * actions read, or its parent.
 *
 * @example
 * const base = new Image("base.img", { dir: "images", name: "base.img", packages: ["curl"] });
 * const child = new Image("k8s.qcow2", { dir: "images", name: "k8s.qcow2", parent: base, packages: ["docker.io"] });
 */
export class Image extends pulumi.dynamic.Resource {
  /** Path of the image file. */
  declare readonly path: pulumi.Output<string>;
  /** "raw" or "qcow2". */
  declare readonly format: pulumi.Output<string>;
  /** sha256 over everything the image is built from. */
  declare readonly buildKey: pulumi.Output<string>;
  /** Size of the image file in bytes. */
  declare readonly sizeBytes: pulumi.Output<number>;
  /** The backend that built it: "guestfs" or "direct". */
  declare readonly backend: pulumi.Output<string>;
  /** The image's file name. */
  declare readonly name: pulumi.Output<string>;
  /** The parent image's file name, if any. */
  declare readonly parent: pulumi.Output<string | undefined>;
  /** The full log of the build that made it. */
  declare readonly logFile: pulumi.Output<string>;
  /** How libguestfs ran: "kvm", "tcg" or "user-settings". */
  declare readonly accel: pulumi.Output<string>;
  /** Seconds each step of the build that made it took. */
  declare readonly stepSeconds: pulumi.Output<Record<string, number>>;
  /** Seconds the build that made it took, in all. */
  declare readonly buildSeconds: pulumi.Output<number>;
  /** When the build that made it finished (ISO 8601). */
  declare readonly builtAt: pulumi.Output<string>;
  /** Bytes the image file takes on disk (raw images are sparse). */
  declare readonly allocatedBytes: pulumi.Output<number>;
  /** Why the last build replaced the image before it, such as "file bootstrap/net.sh changed" or "parent replaced". */
  declare readonly rebuildReasons: pulumi.Output<string[]>;
  /** "built", or "pulled REPOSITORY@DIGEST" when the registry already had its build key ("registry REPOSITORY@DIGEST" without a local copy). */
  declare readonly source: pulumi.Output<string>;
  /** REPOSITORY@DIGEST where it is published, if it is. */
  declare readonly published: pulumi.Output<string | undefined>;
  /** Why publishing failed; the next `up` retries it. */
  declare readonly publishError: pulumi.Output<string | undefined>;

  /**
   * What this image will be, known from its inputs before it is built (so
   * during `preview` too): its name, path and build key. A derived image
   * takes its parent's from here, so that a parent rebuilt with an unchanged
   * build key (its file deleted, or `--replace`) leaves its children alone,
   * in the preview as in the update.
   */
  readonly plan: ImagePlan;

  constructor(resourceName: string, args: ImageArgs, opts?: pulumi.CustomResourceOptions) {
    const parentImage = args.parent instanceof Image ? args.parent : undefined;
    const settings = imageSettings(args);
    const dir = settings.dir as pulumi.Output<string>;
    const inputs = {
      ...settings,
      name: args.name,
      parent: parentImage ? parentImage.plan.name : args.parent,
      parentPath: parentImage?.plan.path,
      parentBuildKey: parentImage ? parentImage.plan.buildKey : args.parentKey,
      size: args.size,
      bootable: args.bootable,
      packages: args.packages ?? [],
      actions: args.actions ?? [],
    };
    const props = {
      ...inputs,
      // A resource cannot read its own URN before it is registered: computed, for the progress on its row.
      __urn: pulumi.createUrn(resourceName, IMAGE_TYPE, opts?.parent && urnWithoutDependency(opts.parent)),
      // Outputs.
      path: undefined,
      format: undefined,
      buildKey: undefined,
      sizeBytes: undefined,
      logFile: undefined,
      accel: undefined,
      stepSeconds: undefined,
      rebuildReasons: undefined,
      source: undefined,
      published: undefined,
      publishError: undefined,
      allocatedBytes: undefined,
      buildSeconds: undefined,
      builtAt: undefined,
    };
    // Outputs only: a rebuild shows them as gone, which would bury the inputs that explain it.
    const hideDiffs = [...IMAGE_OUTPUTS_ONLY, ...IMAGE_HOW_ONLY, ...(opts?.hideDiffs ?? [])];
    // The parent is built first: its outputs are no longer inputs here, so say so.
    const dependsOn = parentImage
      ? pulumi.output(opts?.dependsOn ?? []).apply((d) => [...(Array.isArray(d) ? d : [d]), parentImage])
      : opts?.dependsOn;
    // A secret mirror stays secret in the outputs too.
    const additionalSecretOutputs = ["mirror", ...(opts?.additionalSecretOutputs ?? [])];
    super(forwardingProvider("imageProvider"), resourceName, props, { ...opts, hideDiffs, dependsOn, additionalSecretOutputs }, "vm-images", "Image");
    this.plan = {
      name: pulumi.output(args.name),
      path: pulumi.all([dir, args.name]).apply(([d, n]) => path.join(d, n)),
      buildKey: pulumi.output(inputs).apply(async (v) => {
        const outcome = await checkImageInputs(v as ImageInputs, hostFacts());
        // An invalid image fails its own check; its children wait for it.
        return outcome.ok ? outcome.inputs.buildKey : "invalid";
      }),
    };
  }
}

/** Arguments of {@link PulledImage}. */
export interface PulledImageArgs {
  /** A published lvh image. @example "quay.io/lvh-images/kind:6.6-main" */
  ref: pulumi.Input<string>;
  /** The images directory its files land in. */
  dir: pulumi.Input<string>;
  /** os/arch of a multi-platform image. @default the host's, such as "linux/amd64" */
  platform?: pulumi.Input<string>;
  /** Plain HTTP or unverified TLS for a registry not on loopback. @default false */
  insecureRegistry?: pulumi.Input<boolean>;
  /** File names of images built in the same directory: pulling one of them fails instead of overwriting it. @default [] */
  builds?: pulumi.Input<string[]>;
}

/**
 * A published lvh image (`/data/images/<name>.zst` in its layers) pulled
 * into an images directory, as `lvh images pull` does, without a Docker
 * daemon. It records the manifest digest: when the tag moves, `pulumi
 * preview` shows it replaced ("REF now points to DIGEST"), and the images
 * derived from its files with it.
 *
 * @example
 * const kind = new PulledImage("kind", { ref: "quay.io/lvh-images/kind:6.6-main", dir: "_data/images" });
 */
export class PulledImage extends pulumi.dynamic.Resource {
  /** The manifest digest the files came from. */
  declare readonly digest: pulumi.Output<string>;
  /** repository@digest. */
  declare readonly pinned: pulumi.Output<string>;
  /** The file names of the images it holds. */
  declare readonly images: pulumi.Output<string[]>;
  /** Why it would be pulled again, such as "REF now points to sha256:...". */
  declare readonly pullReasons: pulumi.Output<string[]>;

  constructor(name: string, args: PulledImageArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ref: args.ref,
      dir: pulumi.output(args.dir).apply((d) => path.resolve(d)),
      platform: args.platform,
      insecureRegistry: args.insecureRegistry,
      builds: args.builds,
      digest: undefined, pullReasons: undefined, pinned: undefined, images: undefined, files: undefined,
    };
    const hideDiffs = ["pinned", "images", "files", ...(opts?.hideDiffs ?? [])];
    super(forwardingProvider("pullProvider"), name, props, { ...opts, hideDiffs }, "vm-images", "PulledImage");
  }
}

/** An image's name, path and build key, known before it is built. */
export interface ImagePlan {
  name: pulumi.Output<string>;
  path: pulumi.Output<string>;
  buildKey: pulumi.Output<string>;
}

/** A forest setting's value: plain, or a `pulumi.Input` for one that may hold a password, so a secret stays one. */
type ForestValue<N extends SettingName> = (typeof SETTINGS)[N] extends { sensitive: true } ? pulumi.Input<SettingValues[N]> : SettingValues[N];
type ForestValues<N extends SettingName> = { [K in keyof Pick<SettingValues, N>]: ForestValue<K> };

/**
 * Settings every image of a forest shares (see settings.ts for each). The
 * forest's `baseDir` defaults to the images file's directory for lvh files.
 */
export interface ForestSettings
  extends ForestValues<SettingsWith<{ forest: true; image: "required" }>>,
    Partial<ForestValues<Exclude<SettingsWith<{ forest: true }>, SettingsWith<{ image: "required" }>>>> {}

/** Arguments of {@link ImageForest}: the images, or an lvh images.json to read them from. */
export type ImageForestArgs = ForestSettings & ({ images: ImageConfigInput[] } | { imagesFile: string });

/**
 * An lvh image forest: one {@link Image} per configured image, each child
 * derived from its parent's `Image`, so Pulumi builds parents first and
 * rebuilds every descendant of a rebuilt image.
 *
 * @example
 * const forest = new ImageForest("images", { imagesFile: "images.json", dir: "images" });
 * export const paths = forest.paths;
 */
export class ImageForest extends pulumi.ComponentResource {
  /** The images, by name. */
  readonly images: Record<string, Image>;
  /** The forest's structure. */
  readonly forest: Forest;
  /** The pulled images, by reference. */
  readonly pulled: Record<string, PulledImage>;

  constructor(name: string, args: ImageForestArgs, opts?: pulumi.ComponentResourceOptions) {
    // Read before anything is registered: a ConfigError (every problem of the images at once, see reportConfigErrors)
    // leaves no resource behind.
    let forest: Forest;
    let warnings: string[] = [];
    if ("imagesFile" in args) {
      const read = readLvhImagesFile(args.imagesFile);
      forest = Forest.of(read.images);
      warnings = read.warnings.map((w) => `${args.imagesFile}: ${w}`);
    } else {
      forest = Forest.parse(args.images);
    }
    super("vm-images:index:ImageForest", name, {}, opts);
    this.forest = forest;
    // Fields lvh ignores: said at every preview and update, on the forest's row.
    for (const warning of warnings) void pulumi.log.warn(warning, this);
    for (const warning of configWarnings(forest.images)) void pulumi.log.warn(warning, this);
    const baseDir = args.baseDir ?? ("imagesFile" in args ? path.dirname(path.resolve(args.imagesFile)) : ".");
    // The settings each image takes from the forest, as given (an Image defaults what is unset).
    const shared: Partial<ImageArgs> = Object.fromEntries(FOREST_IMAGE_SETTINGS.map((name) => [name, args[name]]));
    this.pulled = {};
    for (const ref of args.pull ?? []) {
      this.pulled[ref] = new PulledImage(ref, {
        ref, dir: args.dir, insecureRegistry: args.insecureRegistry, builds: this.forest.names(),
      }, { parent: this });
    }
    const pulls = Object.values(this.pulled);
    // lvh's rule: a parent not in the file is a file in the images directory, here possibly a pulled one.
    const pulledKey = (file: string) =>
      pulumi.all(pulls.map((p) => pulumi.all([p.images, p.digest]))).apply((list) => {
        const from = list.find(([names]) => names.includes(file));
        return from ? `pulled ${from[1]}` : undefined;
      });
    this.images = {};
    for (const imageName of this.forest.buildOrder()) {
      const cfg = this.forest.get(imageName);
      const parent = this.forest.inForestParent(imageName);
      const external = parent === undefined && cfg.parent !== undefined && pulls.length > 0;
      this.images[imageName] = new Image(imageName, {
        ...shared,
        dir: args.dir,
        baseDir,
        name: cfg.name,
        parent: parent === undefined ? cfg.parent : this.images[parent],
        size: cfg.size,
        bootable: cfg.bootable,
        packages: cfg.packages,
        actions: cfg.actions,
        parentKey: external ? pulledKey(cfg.parent!) : undefined,
      }, { parent: this, dependsOn: external ? pulls : [] });
    }
    this.registerOutputs({});
  }
}
