// What a results file says, computed: each builder's cold times (without our
// boot check, which lvh does not do: the same work) under each condition,
// their median, and lvh's median over each, like for like. Pure.
import type { Builder, Condition, Floor, ForestResult, Results, Sample } from "./results";

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A sample's time as the ratios count it: the whole build and its flush, without our boot checks. */
export const comparable = (s: Sample) => s.seconds - s.bootCheckSeconds;

export interface Row {
  builder: Builder;
  condition: Condition;
  /** Each sample's comparable seconds, in the order they ran. */
  times: number[];
  median?: number;
  /** lvh's median (with empty caches: lvh keeps none) over this row's, for each lvh measured, by its id. */
  ratios: Record<string, number>;
}

/** lvh's builders that were measured. */
export const lvhBuilders = (r: Results) => r.builders.filter((b) => b.tool === "lvh" && !b.absent);

function times(forest: ForestResult, builder: string, condition: Condition): number[] {
  return forest.samples.filter((s) => s.builder === builder && s.condition === condition)
    .sort((a, b) => a.round - b.round).map(comparable);
}

/**
 * The rows of a forest under a condition: every builder (an absent one with
 * no times), lvh's rows only with empty caches (it keeps no package cache).
 * Ratios are lvh's empty-cache median over the row's median.
 */
export function rows(r: Results, forest: ForestResult, condition: Condition): Row[] {
  const lvh = lvhBuilders(r).map((b) => ({ id: b.id, median: times(forest, b.id, "empty") }))
    .filter((l) => l.median.length).map((l) => ({ id: l.id, median: median(l.median) }));
  return r.builders.filter((b) => condition === "empty" || b.tool !== "lvh").map((builder) => {
    const t = builder.absent ? [] : times(forest, builder.id, condition);
    const m = t.length ? median(t) : undefined;
    const ratios: Record<string, number> = {};
    if (m !== undefined && builder.tool !== "lvh" && !builder.arch) for (const l of lvh) ratios[l.id] = l.median / m;
    return { builder, condition, times: t, median: m, ratios };
  }).filter((row) => row.builder.absent || row.times.length);
}

/** The conditions a forest has samples of, the like-for-like one (empty caches) first. */
export function conditions(forest: ForestResult): Condition[] {
  return (["empty", "warm"] as const).filter((c) => forest.samples.some((s) => s.condition === c));
}

export interface FloorRow {
  floor: Floor;
  /** download + unpack */
  seconds: number;
  /** Each builder of ours with empty caches: the median of the root's own build time without its boot check, and its multiple of the floor. */
  builders: { id: string; median: number; multiple: number }[];
}

/** Each root's floor against our builders' own build of it, with empty package caches (the floor downloads everything too). */
export function floorRows(r: Results, forest: ForestResult): FloorRow[] {
  return (forest.floors ?? []).map((floor) => {
    const seconds = floor.downloadSeconds + floor.unpackSeconds;
    const builders = r.builders.filter((b) => b.tool !== "lvh" && !b.absent && !b.arch).flatMap((b) => {
      const own = forest.samples.filter((s) => s.builder === b.id && s.condition === "empty" && s.images[floor.image])
        .map((s) => s.images[floor.image].seconds - (s.images[floor.image].steps["boot check"] ?? 0));
      return own.length ? [{ id: b.id, median: median(own), multiple: median(own) / seconds }] : [];
    });
    return { floor, seconds, builders };
  });
}

/** A foreign architecture's median against the host's (the direct backend, empty package caches): how many times as long. */
export interface ArchRatio {
  forest: string;
  builder: string;
  median: number;
  hostMedian: number;
  ratio: number;
}

export function archRatios(r: Results, forest: ForestResult): ArchRatio[] {
  const empty = rows(r, forest, "empty");
  const host = empty.find((row) => row.builder.tool === "direct" && !row.builder.baseline && !row.builder.arch)?.median;
  return empty.filter((row) => row.builder.arch && row.median !== undefined && host !== undefined)
    .map((row) => ({ forest: forest.name, builder: row.builder.id, median: row.median!, hostMedian: host!, ratio: row.median! / host! }));
}
