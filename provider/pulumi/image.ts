// The Image resource: one VM disk image, built by its provider
// (imageprovider.ts, reached through a one-line forwarder, forwarding.ts).
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { hostFacts } from "../builder/run/host";
import { checkImageInputs, type ImageInputs } from "../model/check";
import type { Action } from "../model/config";
import { settingOf, type SettingName, settingsWhere, type SettingsWith, type SettingValues } from "../model/settings";
import { forwardingProvider } from "./forwarding";
import { dynamicType, MODULE, TYPES } from "./tokens";

/** Properties of an Image that are outputs of its build, not inputs. */
const IMAGE_OUTPUTS_ONLY = [
  "accel", "allocatedBytes", "virtualBytes", "flatBytes", "buildSeconds", "builtAt", "digest", "format", "identity", "logFile", "path", "sizeBytes", "stepSeconds",
  "installedPackages", "sbom",
  "source", "published", "publishedTag", "publishError",
];

/** Inputs that change how an image is built or shown, never what it is: no diff, no rebuild. */
const IMAGE_HOW_ONLY = [...settingsWhere({ howOnly: true }), "__urn"];

/** The settings an Image takes (settings.ts). */
const IMAGE_SETTINGS = settingsWhere({ image: ["required", "defaulted", "given"] });

/** Settings as `pulumi.Input`s, each documented in settings.ts. */
type SettingInputs<N extends SettingName> = { [K in keyof Pick<SettingValues, N>]: pulumi.Input<SettingValues[K]> };

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
  /**
   * The image file's content digest, "sha256:<64 hex>" (what `sha256sum`
   * prints); for an image kept only in the registry, the one it was
   * published with. A derived image's build key takes its parent's.
   */
  declare readonly digest: pulumi.Output<string | undefined>;
  /**
   * What the image's own dpkg database says is installed: how many
   * packages, and a digest of the set (names, versions, architectures,
   * source packages). Unset for an image without one.
   */
  declare readonly installedPackages: pulumi.Output<{ count: number; digest: string } | undefined>;
  /** Its SBOM beside it: `<image>.cdx.json`, CycloneDX 1.5 JSON, one component per installed package. */
  declare readonly sbom: pulumi.Output<string | undefined>;
  /** Size of the image file in bytes. */
  declare readonly sizeBytes: pulumi.Output<number>;
  /** The backend that built it: "guestfs" or "direct". */
  declare readonly backend: pulumi.Output<string>;
  /** The Debian architecture it is built for (vm-images:arch): "amd64", "arm64", ... */
  declare readonly arch: pulumi.Output<string>;
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
  /** The disk's size as the guest sees it, in bytes (a qcow2's virtual size). */
  declare readonly virtualBytes: pulumi.Output<number | undefined>;
  /** For an overlay (vm-images:layering overlay) built here: the bytes the same image took on disk as a standalone file. */
  declare readonly flatBytes: pulumi.Output<number | undefined>;
  /** Why the last build replaced the image before it, such as "file bootstrap/net.sh changed" or "parent's content changed". */
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
   * takes its parent's from here; its build key takes its parent's `digest`,
   * so that a parent rebuilt to the same bytes (its file deleted, `--replace`,
   * or a change that makes no difference to the file) leaves its children alone.
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
      // A parent of the forest counts by its bytes (its digest); its build key only finds it in the registry.
      parentBuildKey: parentImage?.plan.buildKey,
      parentDigest: parentImage?.digest,
      parentKey: parentImage ? undefined : args.parentKey,
      size: args.size,
      bootable: args.bootable,
      packages: args.packages ?? [],
      actions: args.actions ?? [],
    };
    const props = {
      ...inputs,
      // An input where the stack sets one; an output always (amd64 where unset).
      arch: settings.arch,
      // A resource cannot read its own URN before it is registered: computed, for the progress on its row.
      __urn: pulumi.createUrn(resourceName, dynamicType(TYPES.image), opts?.parent && urnWithoutDependency(opts.parent)),
      // Outputs.
      path: undefined,
      format: undefined,
      buildKey: undefined,
      digest: undefined,
      sizeBytes: undefined,
      logFile: undefined,
      accel: undefined,
      stepSeconds: undefined,
      rebuildReasons: undefined,
      source: undefined,
      published: undefined,
      publishError: undefined,
      allocatedBytes: undefined,
      virtualBytes: undefined,
      flatBytes: undefined,
      installedPackages: undefined,
      sbom: undefined,
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
    super(forwardingProvider("imageProvider"), resourceName, props, { ...opts, hideDiffs, dependsOn, additionalSecretOutputs }, MODULE, TYPES.image);
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

/** An image's name, path and build key, known before it is built. */
export interface ImagePlan {
  name: pulumi.Output<string>;
  path: pulumi.Output<string>;
  buildKey: pulumi.Output<string>;
}
