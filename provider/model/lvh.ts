// little-vm-helper's `images.json` spelling of the image configuration.
//
// Programs write the TypeScript form, `{ type: "run-command", cmd: "..." }`;
// lvh's `images.json` spells the same action
// `{ "comment": "...", "type": "run-command", "op": { "Cmd": "..." } }`.
// Both load to the same frozen `ImageConfig`.
import { type Action, ACTION_TYPES, actionDefinition, type ActionType } from "../actions";
import { ConfigError, type ImageConfig, parseImageConfig } from "./config";

/** lvh's image fields (Go json tags), and ours. */
const LVH_IMAGE_FIELDS: Record<string, string> = {
  name: "name", parent: "parent", image_size: "size", bootable: "bootable", packages: "packages", actions: "actions",
};

/**
 * Go's encoding/json matches object keys to fields case-insensitively, so lvh
 * accepts `"cmd"` for `"Cmd"`. We do too, and reject keys lvh would ignore:
 * they are typos that would otherwise silently change nothing.
 */
function renameKeys(obj: Record<string, unknown>, names: Record<string, string>, where: (key: string) => never) {
  const lower = new Map(Object.entries(names).map(([k, v]) => [k.toLowerCase(), v]));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    const ours = lower.get(key.toLowerCase());
    if (ours === undefined) where(key);
    out[ours!] = value;
  }
  return out;
}

/** Convert one lvh `ImgConf` object to the idiomatic form (not yet validated). */
export function fromLvhImage(raw: unknown, index: number): unknown {
  const label = (raw as { name?: unknown })?.name;
  const image = typeof label === "string" && label !== "" ? label : `#${index + 1}`;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(image, "", "each image must be a JSON object");
  }
  const img = renameKeys(raw as Record<string, unknown>, LVH_IMAGE_FIELDS, (key) => {
    throw new ConfigError(image, key, `unknown field; lvh image fields are ${Object.keys(LVH_IMAGE_FIELDS).join(", ")}`);
  });
  if (img.packages === null) img.packages = []; // Go marshals an empty slice as null
  if (img.actions === null) delete img.actions;
  if (Array.isArray(img.actions)) {
    img.actions = img.actions.map((action, i) => fromLvhAction(action, image, i));
  }
  return img;
}

function fromLvhAction(raw: unknown, image: string, index: number): unknown {
  const where = `actions[${index}]`;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(image, where, 'each action must be an object with "type" and "op"');
  }
  const action = renameKeys(raw as Record<string, unknown>, { comment: "comment", type: "type", op: "op" }, (key) => {
    throw new ConfigError(image, `${where}.${key}`, 'unknown field; an lvh action has "comment", "type" and "op"');
  });
  const type = action.type;
  const def = typeof type === "string" ? actionDefinition(type) : undefined;
  if (!def) {
    throw new ConfigError(image, `${where}.type`, `unknown action type ${JSON.stringify(type)}; expected one of ${ACTION_TYPES.join(", ")}`);
  }
  const fields = def.lvhFields;
  const op = action.op ?? {};
  if (typeof op !== "object" || Array.isArray(op)) {
    throw new ConfigError(image, `${where} (${type}).op`, `op must be an object with ${Object.keys(fields).join(", ")}`);
  }
  const opFields = renameKeys(op as Record<string, unknown>, fields, (key) => {
    throw new ConfigError(image, `${where} (${type}).op.${key}`, `unknown field; ${type} takes ${Object.keys(fields).join(", ")}`);
  });
  for (const [goName, ours] of Object.entries(fields)) {
    if (opFields[ours] === undefined) {
      throw new ConfigError(image, `${where} (${type}).op.${goName}`, `missing; ${type} takes ${Object.keys(fields).join(", ")}`);
    }
  }
  const comment = typeof action.comment === "string" && action.comment !== "" ? { comment: action.comment } : {};
  return { type, ...comment, ...opFields };
}

/** Convert an action of the idiomatic form to lvh's spelling. */
export function toLvhAction(action: Action): { comment: string; type: ActionType; op: Record<string, string> } {
  const fields = actionDefinition(action.type)!.lvhFields;
  const op: Record<string, string> = {};
  for (const [goName, ours] of Object.entries(fields)) op[goName] = (action as unknown as Record<string, string>)[ours];
  return { comment: action.comment ?? "", type: action.type, op };
}

/** Convert an image to lvh's `ImgConf` spelling, as lvh writes it. */
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

/** Parse the text of an lvh `images.json`: a JSON list of images. */
export function parseLvhImages(text: string, source = "images.json"): ImageConfig[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(undefined, source, `invalid JSON: ${(err as Error).message}`);
  }
  // lvh's own saved configuration wraps the list as { Dir, Images }.
  if (raw && typeof raw === "object" && !Array.isArray(raw)) {
    const images = Object.entries(raw).find(([k]) => k.toLowerCase() === "images")?.[1];
    if (images !== undefined) raw = images;
  }
  if (!Array.isArray(raw)) throw new ConfigError(undefined, source, "must be a JSON list of images");
  return raw.map((img, i) => parseImageConfig(fromLvhImage(img, i), i));
}
