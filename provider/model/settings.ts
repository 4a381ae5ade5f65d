// The image and stack settings: the one list of them, as actions/index.ts
// is the one list of actions. Each setting is declared once: the kind of its
// value, its default, what it means, whether it is a stack config key
// (`vm-images:<name>`), an Image input, a forest setting, part of the build
// key. The stack config parser, an Image's check, the types ImageInputs,
// ImageArgs, ForestSettings and StackSettings, the list of keys in an
// unknown-key error and the docs' stack config table derive from it.
// Adding a setting means an entry here (and a use of it in the build).
import { parseRef, TAG } from "./oci";
import { ARCHES } from "./arch";
import { ARCHIVE_SETTINGS } from "./archivesettings";
import { BOUND_SETTINGS } from "./boundsettings";
import { LAYERINGS } from "./layers";
import { SANDBOX_SETTINGS } from "./sandboxsettings";
import { absolutePath, choice, flag, type Kind, list, type Reading, refRefusal, type RuleContext, type Setting, text } from "./settingkinds";

/** Backends that build images; `auto` picks one for this host. */
export const BACKEND_CHOICES = ["auto", "guestfs", "direct"] as const;

export type { Setting };

/**
 * The settings, in the order of the docs' table. Each entry's comment is
 * its documentation for programs (ImageArgs, ForestSettings); `doc` is the
 * stack config's.
 */
export const SETTINGS = {
  /** lvh's images.json the root program reads. */
  imagesFile: {
    kind: absolutePath("file"), stack: true,
    doc: "lvh `images.json`, read verbatim",
    default: "examples/seed/images.json", defaultDoc: "`examples/seed/images.json` (lvh's example forest)",
  },
  /** The images directory (absolute, or relative to the current directory). */
  dir: {
    kind: absolutePath("directory"), stack: true, image: "required", forest: true,
    doc: "images directory",
    default: "images",
  },
  /**
   * Directory that relative local paths of actions resolve against.
   * @default the current directory; for an images file, its directory
   */
  baseDir: {
    kind: absolutePath("directory"), image: "defaulted", forest: true,
    doc: "directory that relative local paths of actions resolve against",
    default: ".",
  },
  /** Debian suite of root images. @default "bookworm" */
  suite: {
    kind: text(/^[a-z][a-z0-9.-]*$/, "a Debian suite or codename such as bookworm"), stack: true, image: "defaulted", forest: true, buildKey: true,
    doc: "Debian suite of root images (lvh's `--pkg-repo`)",
    default: "bookworm",
  },
  /**
   * Debian mirror of root images (lvh's --pkg-repo mirror). A mirror with
   * credentials is best a secret (`pulumi.secret`, `config.requireSecret`): it stays one in the state.
   * @default Debian's default mirror
   */
  mirror: {
    kind: text(/^(https?|file):\/\/\S+$/, "an http://, https:// or file:// URL"), stack: true, image: "given", forest: true, buildKey: true,
    sensitive: true,
    doc: "Debian mirror URL; with a login, set it with `--secret` (see [A mirror with credentials](registries-and-fleets.md#a-mirror-with-credentials))",
    defaultDoc: "Debian's default",
  },
  /**
   * The Debian architecture the images are built for: a foreign one (arm64
   * on an x86_64 host) through qemu-user and binfmt_misc, with the direct
   * backend. @default "amd64"
   */
  arch: {
    kind: choice(ARCHES), stack: true, image: "given", forest: true, buildKey: true,
    doc: "Debian architecture of the images: " + ARCHES.map((a) => `\`${a}\``).join(", ") + " (amd64 and arm64 can be bootable); " +
      "one the build host is not needs the direct backend and binfmt_misc (see [Architectures](architectures.md))",
    // Unset is amd64, and is not sent: the inputs and build keys of existing stacks stay as they were.
    defaultDoc: "`amd64`",
  },
  /** "guestfs", "direct" or "auto". @default "auto" */
  backend: {
    kind: choice(BACKEND_CHOICES), stack: true, image: "defaulted", forest: true, buildKey: true,
    doc: "`direct`, `guestfs` or `auto`",
    default: "auto", defaultDoc: "`auto`: `direct` as root with its tools, else `guestfs`",
  },
  /** Merge consecutive virt-customize steps into one invocation. @default true */
  mergeSteps: {
    kind: flag, stack: true, image: "defaulted", forest: true,
    doc: "one virt-customize run for consecutive steps (lvh's `--merge-steps`)",
    default: true,
  },
  /** Any value; changing it rebuilds the image (lvh's --force-rebuild). */
  rebuild: {
    kind: text(), stack: true, image: "given", forest: true,
    doc: "any value; changing it rebuilds every image",
  },
  /** Published lvh images pulled into `dir` first; their files can be parents of the forest's images. */
  pull: {
    kind: list("references"), stack: true, forest: true,
    doc: "published lvh images to pull into the images directory first (a list: `config set --path 'vm-images:pull[0]' REF`, " +
      "or references separated by commas); see [Registries](registries-and-fleets.md#registries-pull-publish-and-a-shared-cache)",
    default: [] as string[], defaultDoc: "none",
    rule: (refs: string[], context: RuleContext) => refs.map((ref) => refRefusal(ref, context)).find((r) => r !== undefined),
  },
  /**
   * Repository to look the build key up in before building (a hit is pulled,
   * not built) and to publish the built image to, tagged with its build key.
   * @example "127.0.0.1:5000/team/images"
   */
  registry: {
    kind: text(), stack: true, image: "given", forest: true,
    doc: "repository to publish built images to and to pull them from instead of building, such as `127.0.0.1:5000/team/images`",
    rule: (ref: string, context: RuleContext) => {
      const refusal = refRefusal(ref, context);
      if (refusal) return refusal;
      const { tag, digest } = parseRef(ref);
      return tag || digest ? `${JSON.stringify(ref)} must be a repository, without a tag or digest` : undefined;
    },
  },
  /** A human tag for the published image, besides its build key: `<name>-<tag>`. @example "main" */
  tag: {
    kind: text(TAG, `a tag (${TAG.source})`), stack: true, image: "given", forest: true,
    doc: "a human tag for each published image besides its build key: `<image>-<tag>`",
  },
  /** Plain HTTP or unverified TLS for a registry not on loopback. @default false */
  insecureRegistry: {
    kind: flag, stack: true, image: "given", forest: true,
    doc: "`true` allows plain HTTP (or unverified TLS) for a registry that is not on loopback",
    default: false,
  },
  /**
   * Boot a bootable image from its own disk under qemu before keeping it, and
   * fail the build unless it reaches a login prompt. Not part of the build key.
   * @default true where the architecture's qemu is installed (qemu-system-x86_64; for arm64 qemu-system-aarch64 and UEFI firmware)
   */
  verifyBoot: {
    kind: flag, stack: true, image: "given", forest: true, howOnly: true,
    doc: "boot each bootable root image under qemu before keeping it (see [The boot check](building.md#the-boot-check)); not part of the build key, " +
      "so changing it rebuilds nothing",
    defaultDoc: "`true` where the architecture's qemu is installed: `qemu-system-x86_64`, or for arm64 `qemu-system-aarch64` and UEFI firmware (`qemu-efi-aarch64`)",
  },
  ...SANDBOX_SETTINGS,
  /** Every line of every tool in the CLI's output too (it is always in the image's log). @default false */
  verbose: {
    kind: flag, stack: true, image: "given", forest: true, howOnly: true,
    doc: "`true`: every line of every tool in the CLI's output too (also `VM_IMAGES_VERBOSE=1`); changes nothing else",
    default: false,
  },
  /**
   * With a registry, the published image is the image and the file in `dir`
   * is this machine's copy: true pulls it when it is missing or changed;
   * false leaves it out unless a derived image is built from it here.
   * @default true
   */
  localCopies: {
    kind: flag, stack: true, image: "defaulted", forest: true,
    doc: "with a registry: `true` keeps a copy of every image in the images directory (pulled when missing or changed); " +
      "`false` only the parents a build here needs; see [Fleets](registries-and-fleets.md#fleets-ci-runners-that-share-the-state-and-the-registry)",
    default: true,
  },
  /**
   * How a qcow2 derived image is stored: "flat", a standalone file as lvh
   * writes it, or "overlay", only what differs from its parent, on top of a
   * copy of the parent named by its content digest. @default "flat"
   */
  layering: {
    kind: choice(LAYERINGS), stack: true, image: "given", forest: true, buildKey: true,
    doc: "`flat`: every image a standalone file, as lvh writes them; `overlay`: a `.qcow2` derived image holds only what differs " +
      "from its parent (see [Copy-on-write children](building.md#copy-on-write-children))",
    // Unset means flat, and is not sent: the inputs of existing stacks stay as they were.
    defaultDoc: "`flat`",
  },
  /**
   * Pulled overlays (a PulledImage's, and the local copies of images pulled
   * from the registry) made standalone files, as lvh expects them: no
   * backing file, the layers they read swept. @default false
   */
  flatten: {
    kind: flag, stack: true, image: "given", forest: true, howOnly: true,
    doc: "`true`: a pulled overlay (from `vm-images:pull`, or an image's copy from the registry) is made a standalone file, as lvh expects; " +
      "see [Copy-on-write children](building.md#copy-on-write-children)",
    // Unset is false, and is not sent: the inputs of existing stacks stay as they were.
    defaultDoc: "`false`",
  },
  ...ARCHIVE_SETTINGS,
  ...BOUND_SETTINGS,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entry's default is checked against its kind below
} as const satisfies Record<string, Setting<any>>;

type Table = typeof SETTINGS;
export type SettingName = keyof Table;
/** Each setting's value. */
// (`keyof Table` spelled out: a mapped type over it keeps each entry's comment for editors.)
export type SettingValues = { -readonly [N in keyof Table]: Table[N]["kind"] extends Kind<infer T> ? T : never };
/** The settings whose declaration has these properties. */
export type SettingsWith<P> = { [N in SettingName]: Table[N] extends P ? N : never }[SettingName];

/** Compile-time check: every default is a value of its setting's kind (else: the setting's name as the type of `true`). */
type Misfit = { [N in SettingName]: Table[N] extends { default: infer D } ? (D extends SettingValues[N] ? never : N) : never }[SettingName];
const everyDefaultFits: [Misfit] extends [never] ? true : Misfit = true;
void everyDefaultFits;

/** A pattern of a declaration: each property one value, or a list of the values it may have. */
type Pattern = { readonly [K in keyof Setting<unknown>]?: unknown };
type Matched<P> = { [K in keyof P]: P[K] extends readonly (infer U)[] ? U : P[K] };

/** The names of the settings whose declaration matches the pattern, in the table's order (typed as the pattern says). */
export function settingsWhere<const P extends Pattern>(pattern: P): SettingsWith<Matched<P>>[] {
  const matches = (s: Setting<unknown>) => Object.entries(pattern).every(([key, want]) => {
    const have = s[key as keyof Setting<unknown>];
    return Array.isArray(want) ? want.includes(have) : have === want;
  });
  return (Object.keys(SETTINGS) as SettingName[]).filter((name) => matches(settingOf(name))) as SettingsWith<Matched<P>>[];
}

/** The declaration of a setting, for code that treats all settings alike. */
export function settingOf(name: SettingName): Setting<unknown> {
  return SETTINGS[name] as Setting<unknown>;
}

/** A setting's stack config key. */
export const stackKey = (name: SettingName) => `vm-images:${name}`;

/** A kind's reason after the value it refuses, unless the value is unset or may hold a password. */
function quoted(setting: Setting<unknown>, value: unknown, reason: string): string {
  return value === undefined || setting.sensitive ? reason : `${JSON.stringify(value)} ${reason}`;
}

/** A setting's value from stack config text, or why the text is none (the same wording as {@link refusal}). */
export function readText(name: SettingName, text: string): Reading<unknown> {
  const setting = settingOf(name);
  const reading = setting.kind.read(text);
  return "reason" in reading ? { reason: quoted(setting, text, reading.reason) } : reading;
}

/**
 * Why a setting's value is refused, or undefined: the one wording of each
 * rule, for the stack config and an Image's inputs alike (each puts its own
 * subject before it: `vm-images:backend: `, `image "a.img": backend: `).
 */
export function refusal(name: SettingName, value: unknown, context: RuleContext): string | undefined {
  const setting = settingOf(name);
  const reason = setting.kind.refuse(value);
  return reason ? quoted(setting, value, reason) : setting.rule?.(value, context);
}

/** The docs' default column of a setting. */
export function defaultDoc(name: SettingName): string {
  const s = settingOf(name);
  return s.defaultDoc ?? (s.default === undefined ? "unset" : `\`${String(s.default)}\``);
}
