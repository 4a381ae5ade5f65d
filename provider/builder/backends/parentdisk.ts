// Opening a derived image's parent disk, in both backends: its header read
// with qemu-img info (itself without the backing chain), refused where it
// names a backing or data file, then copied by qemu-img convert without the
// backing chain.
import { externalFileRefusal, parentOpenName } from "../../model/backing";
import { imageFormat } from "../../model/image";
import { MINUTE, run } from "../run/exec";
import type { BuildContext } from "../run/steps";

/** The arguments that name the parent to qemu-img: its format, then the name that opens it without a backing file. */
function parentSource(parent: string): string[] {
  const format = imageFormat(parent);
  return format === "raw" ? ["-f", "raw", parent] : [parentOpenName(parent, format)];
}

/** Refuse a parent whose header names a host file (a backing or data file). */
export async function checkParent(parent: string, ctx: BuildContext): Promise<void> {
  if (imageFormat(parent) === "raw") return; // raw bytes: no header, nothing named
  const out = await run("qemu-img", ["info", "--output=json", ...parentSource(parent)], {
    label: `${ctx.image} qemu-img`, log: ctx.log, signal: ctx.signal, timeoutMs: MINUTE, capture: true,
  });
  const refusal = externalFileRefusal(ctx.image, parent, JSON.parse(out));
  if (refusal) throw new Error(refusal);
}

/** Copy the parent to `target` in `format`, after checking it; extra convert options go before the source. */
export async function convertParent(parent: string, target: string, format: "raw" | "qcow2", options: string[], ctx: BuildContext): Promise<void> {
  await checkParent(parent, ctx);
  await run("qemu-img", ["convert", ...options, ...parentSource(parent), "-O", format, target], {
    label: `${ctx.image} qemu-img`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
  });
}
