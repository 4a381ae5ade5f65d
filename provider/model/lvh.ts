// little-vm-helper's `images.json` spelling of the image configuration, read
// by the rules of lvh's Go decoder (encoding/json into []ImgConf):
//  - keys match field names exactly or else case-insensitively;
//  - unknown keys are ignored (we warn, naming the likely typo);
//  - null in an optional field, "" for parent or image_size, mean unset;
//  - a bare JSON list of images, nothing else.
// Programs write the TypeScript form, `{ type: "run-command", cmd: "..." }`;
// lvh spells the same action
// `{ "comment": "...", "type": "run-command", "op": { "Cmd": "..." } }`.
// Both load to the same frozen `ImageConfig`, and errors name fields as the
// file spells them: `image "a.img": actions[2] (run-command).op.Cmd: ...`.
import { type Action, ACTION_TYPES, actionDefinition, type ActionType } from "../actions";
import { ConfigError, ConfigErrors, type ImageConfig, validateImageConfig } from "./config";
import { renameKeys, resembles } from "./gofields";

/** lvh's image fields (Go json tags), and ours. */
const LVH_IMAGE_FIELDS: Record<string, string> = {
  name: "name", parent: "parent", image_size: "size", bootable: "bootable", packages: "packages", actions: "actions",
};
const LVH_ACTION_FIELDS: Record<string, string> = { comment: "comment", type: "type", op: "op" };

/** What reading an images file found besides the images: fields lvh ignores, and so do we. */
export interface LvhImages {
  images: ImageConfig[];
  warnings: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

/** How one image of the file spells our fields, to name them in errors. */
interface Spelling {
  image: Record<string, string>;
  actions: { fields: Record<string, string>; op: Record<string, string> }[];
}

/** One lvh `ImgConf` object in the TypeScript form (not yet validated), without the actions that could not be converted. */
interface Converted {
  image: Record<string, unknown>;
  spelling: Spelling;
  /** The index in the file of each action of `image.actions`. */
  actionIndex: number[];
  /** Why the actions left out could not be converted. */
  problems: ConfigError[];
}

/** Convert one lvh `ImgConf` object to the TypeScript form, collecting warnings; throws a ConfigError if it is no object. */
function fromLvhImage(raw: unknown, index: number, warnings: string[]): Converted {
  const label = isObject(raw) ? raw.name : undefined;
  const image = typeof label === "string" && label !== "" ? label : `#${index + 1}`;
  if (!isObject(raw)) throw new ConfigError(image, "", "each image must be a JSON object");
  const warn = (where: string, key: string, known: string[]) => {
    const hint = resembles(key, known);
    warnings.push(`image ${JSON.stringify(image)}: ${where}${JSON.stringify(key)} is not a field lvh knows; ignored, as lvh ignores it` +
      `${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ""}`);
  };
  const { values: img, spelled } = renameKeys(raw, LVH_IMAGE_FIELDS, (key) => warn("", key, Object.keys(LVH_IMAGE_FIELDS)));
  // Go leaves a field at its zero value for null, and lvh reads "" as unset.
  for (const field of ["parent", "size", "bootable", "packages", "actions"]) if (img[field] === null) delete img[field];
  if (img.parent === "") delete img.parent;
  if (img.size === "") delete img.size;
  const converted: Converted = { image: img, spelling: { image: spelled, actions: [] }, actionIndex: [], problems: [] };
  if (Array.isArray(img.actions)) {
    const actions: unknown[] = [];
    img.actions.forEach((action, i) => {
      try {
        const { action: ours, spelling } = fromLvhAction(action, image, i, warn);
        converted.spelling.actions[i] = spelling;
        converted.actionIndex.push(i);
        actions.push(ours);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        converted.problems.push(...(err instanceof ConfigErrors ? err.problems : [err]));
      }
    });
    img.actions = actions;
  }
  return converted;
}

/** Convert one lvh action to the TypeScript form; throws a ConfigError (every missing op field) when it cannot be. */
function fromLvhAction(
  raw: unknown,
  image: string,
  index: number,
  warn: (where: string, key: string, known: string[]) => void,
): { action: unknown; spelling: Spelling["actions"][number] } {
  const where = `actions[${index}]`;
  if (!isObject(raw)) throw new ConfigError(image, where, 'each action must be an object with "type" and "op"');
  const { values: action, spelled: fields } = renameKeys(raw, LVH_ACTION_FIELDS, (key) =>
    warn(`${where}: `, key, Object.keys(LVH_ACTION_FIELDS)));
  const type = action.type;
  const typeField = `${where}.${fields.type ?? "type"}`;
  if (type === undefined || type === null || type === "") {
    throw new ConfigError(image, typeField, `the action type is missing; expected one of ${ACTION_TYPES.join(", ")}`);
  }
  const def = typeof type === "string" ? actionDefinition(type) : undefined;
  if (!def) {
    const hint = typeof type === "string" ? resembles(type, [...ACTION_TYPES]) : undefined;
    throw new ConfigError(image, typeField, `unknown action type ${JSON.stringify(type)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ""}; ` +
      `expected one of ${ACTION_TYPES.join(", ")}`);
  }
  const goNames = Object.keys(def.lvhFields);
  const opField = `${where} (${type}).${fields.op ?? "op"}`;
  if (action.op === undefined) throw new ConfigError(image, opField, `missing; ${type} takes an op with ${goNames.join(", ")}`);
  if (!isObject(action.op)) throw new ConfigError(image, opField, `op must be an object with ${goNames.join(", ")}`);
  const { values: op, spelled: opSpelled } = renameKeys(action.op, def.lvhFields, (key) =>
    warn(`${where} (${type}).${fields.op ?? "op"}: `, key, goNames));
  const missing = Object.entries(def.lvhFields).filter(([, ours]) => op[ours] === undefined || op[ours] === null)
    .map(([goName]) => new ConfigError(image, `${opField}.${goName}`, `missing; ${type} takes ${goNames.join(", ")}`));
  if (missing.length) throw new ConfigErrors(undefined, missing);
  const comment = typeof action.comment === "string" && action.comment !== "" ? { comment: action.comment } : {};
  const opNames: Record<string, string> = {};
  for (const [goName, ours] of Object.entries(def.lvhFields)) opNames[ours] = `${fields.op ?? "op"}.${opSpelled[ours] ?? goName}`;
  return { action: { type, ...comment, ...op }, spelling: { fields, op: opNames } };
}

/**
 * A validation error of the TypeScript form, with its field named as the
 * images file spells it, and its action numbered as in the file.
 */
function asWritten(err: ConfigError, { spelling, actionIndex }: Converted): ConfigError {
  const p = err.path && p0IsAction(err.path) ? ["actions", actionIndex[err.path[1] as number], ...err.path.slice(2)] : err.path;
  if (!p || p.length === 0) return err;
  let field: string;
  let ours: string;
  if (p[0] === "actions" && typeof p[1] === "number" && p.length > 2) {
    const names = spelling.actions[p[1]];
    ours = String(p[2]);
    const written = names?.op[ours] ?? names?.fields[ours] ?? ours;
    const type = err.field.match(/^actions\[\d+\] \(([^)]+)\)/)?.[1];
    field = `actions[${p[1]}]${type ? ` (${type})` : ""}.${written}${p.slice(3).map((k) => `[${k}]`).join("")}`;
  } else {
    ours = String(p[0]);
    const written = spelling.image[ours] ?? Object.entries(LVH_IMAGE_FIELDS).find(([, v]) => v === ours)?.[0] ?? ours;
    field = `${written}${p.slice(1).map((k) => `[${k}]`).join("")}`;
  }
  const lastWritten = field.split(".").pop()!.replace(/\[.*$/, "");
  const reason = err.reason.startsWith(`${ours} `) ? `${lastWritten}${err.reason.slice(ours.length)}` : err.reason;
  return new ConfigError(err.image, field, reason, p);
}

const p0IsAction = (p: readonly (string | number)[]) => p[0] === "actions" && typeof p[1] === "number";

/** Convert an action of the TypeScript form to lvh's spelling. */
export function toLvhAction(action: Action): { comment: string; type: ActionType; op: Record<string, string> } {
  const fields = actionDefinition(action.type)!.lvhFields;
  const op: Record<string, string> = {};
  for (const [goName, ours] of Object.entries(fields)) op[goName] = (action as unknown as Record<string, string>)[ours];
  return { comment: action.comment ?? "", type: action.type, op };
}

/** Convert an image to lvh's `ImgConf` spelling, as lvh's decoder reads it. */
export function toLvhImage(img: ImageConfig): Record<string, unknown> {
  return {
    name: img.name,
    ...(img.parent ? { parent: img.parent } : {}),
    ...(img.size ? { image_size: img.size } : {}),
    ...(img.bootable === undefined ? {} : { bootable: img.bootable }),
    packages: img.packages,
    ...(img.actions.length ? { actions: img.actions.map(toLvhAction) } : {}),
  };
}

/** JSON.parse's message, with the line and column of the position it names (editors show those). */
function jsonErrorAt(text: string, err: Error): string {
  const position = /at position (\d+)/.exec(err.message);
  if (!position) return err.message;
  const before = text.slice(0, Number(position[1])).split("\n");
  return `${err.message} (line ${before.length}, column ${before[before.length - 1].length + 1})`;
}

/** What reading an images file found: the images that are valid, warnings, and every problem. */
export interface LvhReading extends LvhImages {
  problems: ConfigError[];
}

/** Read the text of an lvh `images.json` as `lvh images build` reads it, collecting every problem of every image. */
export function readLvhImagesCollecting(text: string): LvhReading {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { images: [], warnings: [], problems: [new ConfigError(undefined, "", `invalid JSON: ${jsonErrorAt(text, err as Error)}`)] };
  }
  if (raw === null) return { images: [], warnings: [], problems: [] };
  if (!Array.isArray(raw)) {
    return { images: [], warnings: [], problems: [new ConfigError(undefined, "", "must be a JSON list of images (lvh images build reads []ImgConf)")] };
  }
  const reading: LvhReading = { images: [], warnings: [], problems: [] };
  raw.forEach((img, i) => {
    let converted: Converted;
    try {
      converted = fromLvhImage(img, i, reading.warnings);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      reading.problems.push(err);
      return;
    }
    reading.problems.push(...converted.problems);
    const result = validateImageConfig(converted.image, i);
    if (result.ok) reading.images.push(result.image);
    else reading.problems.push(...result.problems.map((p) => asWritten(p, converted)));
  });
  return reading;
}

/** Read the text of an lvh `images.json`, a JSON list of images; throws a ConfigError with every problem, each after `source`. */
export function readLvhImages(text: string, source = "images.json"): LvhImages {
  const { images, warnings, problems } = readLvhImagesCollecting(text);
  if (problems.length) throw new ConfigErrors(source, problems);
  return { images, warnings };
}

/** Parse the text of an lvh `images.json`: its images (warnings dropped). */
export function parseLvhImages(text: string, source = "images.json"): ImageConfig[] {
  return readLvhImages(text, source).images;
}
