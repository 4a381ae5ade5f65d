// The ImageForest component: one Image per image of an lvh images file (or
// of a list), each child derived from its parent's Image, and the published
// images it pulls first.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { archOf, platformText } from "../model/arch";
import { configWarnings, type ImageConfigInput } from "../model/config";
import { Forest } from "../model/forest";
import { readLvhImagesFile } from "../model/imagesfile";
import { type SettingName, SETTINGS, settingsWhere, type SettingsWith, type SettingValues } from "../model/settings";
import { Image, type ImageArgs } from "./image";
import { PulledImage } from "./pull";
import { FOREST_TYPE } from "./tokens";

/** The settings a forest passes on to each of its images. */
const FOREST_IMAGE_SETTINGS = settingsWhere({ image: ["required", "defaulted", "given"], forest: true });

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
    super(FOREST_TYPE, name, {}, opts);
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
        ref, dir: args.dir, insecureRegistry: args.insecureRegistry, builds: this.forest.names(), flatten: args.flatten,
        // The stack's architecture: an index's entry for it, or a plain manifest of it (the images built on it are of it too).
        platform: platformText(archOf({ arch: args.arch })),
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
