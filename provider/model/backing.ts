// A parent disk image comes from the images directory, a pull or a cache: its
// header is not ours. A qcow2 header can name a backing file or an external
// data file, any path or block device of the host, which qemu-img would read
// into the derived image, and so into what is published. Such a parent is
// refused, and it is opened without its backing chain all the same.
import * as path from "node:path";

/**
 * The file name qemu-img opens a parent by: for qcow2, a json: name that
 * tells qemu not to open a backing file whatever the header says; for raw
 * (which has no header), the file itself, read with -f raw.
 */
export function parentOpenName(file: string, format: "raw" | "qcow2"): string {
  if (format === "raw") return file;
  return "json:" + JSON.stringify({ driver: "qcow2", file: { driver: "file", filename: path.resolve(file) }, backing: null });
}

/** The host files a parent's `qemu-img info --output=json` names as its backing or data file. */
export function externalFiles(info: unknown): { kind: "backing file" | "data file"; file: string }[] {
  const found: { kind: "backing file" | "data file"; file: string }[] = [];
  if (!info || typeof info !== "object") return found;
  const o = info as Record<string, unknown>;
  const backing = o["full-backing-filename"] ?? o["backing-filename"];
  if (typeof backing === "string" && backing) found.push({ kind: "backing file", file: backing });
  // "data-file" sits in format-specific.data for qcow2; looked for at any depth.
  const visit = (v: unknown): void => {
    if (!v || typeof v !== "object") return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === "data-file" && typeof x === "string" && x) found.push({ kind: "data file", file: x });
      else visit(x);
    }
  };
  visit(o["format-specific"]);
  return found;
}

/** The refusal for a parent whose header names a host file, or undefined where it names none. */
export function externalFileRefusal(image: string, parent: string, info: unknown): string | undefined {
  const [first] = externalFiles(info);
  if (!first) return undefined;
  return `image "${image}": parent ${parent} names a ${first.kind} (${first.file}): refused, a disk image from the images ` +
    "directory, a pull or a cache is opened without its backing chain; convert it to a standalone image " +
    "(qemu-img convert -O qcow2 without -B) and build again";
}
