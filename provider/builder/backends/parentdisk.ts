// Opening a derived image's parent disk, in both backends: its header read
// with qemu-img info (itself without the backing chain), refused where it
// names a data file, or a backing file that is not one of our layers
// (layers.ts: a plain name beside it, holding the digest it says); then
// copied by qemu-img convert, through its layers or without a chain.
import { externalFileRefusal, externalFiles, parentOpenName } from "../../model/backing";
import { imageFormat } from "../../model/image";
import { isLayerReference } from "../../model/layers";
import { checkChain } from "../image/layers";
import { MINUTE, run } from "../run/exec";
import type { BuildContext } from "../run/steps";

/**
 * How qemu-img is to open a checked parent: its format and the name that
 * opens it: an overlay of ours by its path (its layers come with it), any
 * other qcow2 by a name that opens no backing file whatever its header says.
 */
export interface ParentSource {
  format: "raw" | "qcow2";
  name: string;
}

/** Check the parent (a header that names a host file is refused; an overlay's layers must be whole) and say how to open it. */
export async function openParent(parent: string, ctx: BuildContext): Promise<ParentSource> {
  const format = imageFormat(parent);
  if (format === "raw") return { format, name: parent }; // raw bytes: no header, nothing named
  const out = await run("qemu-img", ["info", "--output=json", parentOpenName(parent, format)], {
    label: `${ctx.image} qemu-img`, log: ctx.log, signal: ctx.signal, timeoutMs: MINUTE, capture: true,
  });
  const info = JSON.parse(out);
  const named = externalFiles(info);
  if (named.length === 1 && named[0].kind === "backing file" && isLayerReference(info["backing-filename"])) {
    await checkChain(parent, `image "${ctx.image}"`, ctx.signal);
    return { format, name: parent };
  }
  const refusal = externalFileRefusal(ctx.image, parent, info);
  if (refusal) throw new Error(refusal);
  return { format, name: parentOpenName(parent, format) };
}

/** qemu-img's arguments that name an opened parent as a source. */
export function sourceArgs(source: ParentSource): string[] {
  return source.name.startsWith("json:") ? [source.name] : ["-f", source.format, source.name];
}

/** Copy the parent to `target` in `format`, after checking it; extra convert options go before the source. */
export async function convertParent(parent: string, target: string, format: "raw" | "qcow2", options: string[], ctx: BuildContext): Promise<void> {
  const source = await openParent(parent, ctx);
  await run("qemu-img", ["convert", ...options, ...sourceArgs(source), "-O", format, target], {
    label: `${ctx.image} qemu-img`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
  });
}
