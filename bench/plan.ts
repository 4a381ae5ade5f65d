// Who is sampled, and in which order: pure.
import type { Baseline } from "./baseline";
import type { Builder } from "./results";

/** The forests the arm64 builder is sampled on: the seed forest, beside the host's architecture. */
export const ARM64_FORESTS = ["seed"];

/**
 * The builders of a run: each libguestfs one under each acceleration the
 * host offers, KVM first; with `arm64`, the direct backend building arm64
 * images too (on the forests of ARM64_FORESTS).
 */
export function plannedBuilders(wanted: string[], lvh: string | undefined, kvm: "kvm" | "tcg", userSettings: boolean, baseline?: Baseline, arm64 = false): Builder[] {
  const accels = userSettings ? ["user-settings"] : kvm === "kvm" ? ["kvm", "tcg"] : ["tcg"];
  const builders: Builder[] = [];
  if (wanted.includes("lvh")) {
    if (lvh) builders.push(...accels.map((accel) => ({ id: `lvh (${accel})`, tool: "lvh" as const, accel })));
    else builders.push({ id: "lvh", tool: "lvh", accel: "-", absent: "not found (give LVH=/path/to/lvh or put lvh on PATH)" });
  }
  if (wanted.includes("guestfs")) builders.push(...accels.map((accel) => ({ id: `guestfs (${accel})`, tool: "guestfs" as const, accel })));
  if (wanted.includes("direct")) {
    builders.push({ id: "direct", tool: "direct", accel: "none" });
    if (baseline) builders.push({ id: `direct at ${baseline.ref} (${baseline.commit.slice(0, 12)})`, tool: "direct", accel: "none", baseline: { ref: baseline.ref, commit: baseline.commit } });
    if (arm64) builders.push({ id: "direct (arm64)", tool: "direct", accel: "none", arch: "arm64", forests: ARM64_FORESTS });
  }
  return builders;
}

/** Round r's order: the builders rotated by r. */
export function roundOrder<T>(items: T[], round: number): T[] {
  const k = items.length ? round % items.length : 0;
  return [...items.slice(k), ...items.slice(0, k)];
}

