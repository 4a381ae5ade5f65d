// A bench results file for tests, made here: round figures, no
// measurement, never a run's.
import { BOOTSTRAP_STEP } from "../../bench/coldcheck";
import { type ImageSample, RESULTS_FORMAT, type Results, type Sample } from "../../bench/results";

export const built = (seconds: number, root: boolean, builtAt = "t0"): ImageSample =>
  ({ seconds, source: "built", steps: root ? { [BOOTSTRAP_STEP]: seconds - 1, "boot check": 1 } : { "install packages (apt-get in sandbox)": seconds }, accel: "tcg", builtAt });

function sample(builder: string, condition: "empty" | "warm", round: number, seconds: number, bootCheckSeconds = 0): Sample {
  return { builder, condition, round, position: 0, seconds, flushSeconds: 1, peakKiB: 2048, bootCheckSeconds, images: {} };
}

/** A fixture: lvh 100, 120, 110 s; direct 12, 10, 11 s (+1 s boot check) empty, 9, 8, 10 warm. */
export function fixture(lvhAbsent = false): Results {
  const samples = [
    ...(lvhAbsent ? [] : [sample("lvh (tcg)", "empty", 0, 100), sample("lvh (tcg)", "empty", 1, 120), sample("lvh (tcg)", "empty", 2, 110)]),
    sample("direct", "empty", 0, 13, 1), sample("direct", "empty", 1, 11, 1), sample("direct", "empty", 2, 12, 1),
    sample("direct", "warm", 0, 9), sample("direct", "warm", 1, 8), sample("direct", "warm", 2, 10),
  ];
  const cold = { seconds: 30, flushSeconds: 1, peakKiB: 4096, images: { "base.img": built(20, true), "k8s.qcow2": built(8, false) } };
  return {
    format: RESULTS_FORMAT, commit: "0123456789abcdef0123", dirty: false, started: "2030-01-02T03:04:05.000Z", finished: "2030-01-02T05:00:00.000Z",
    args: ["--backends", "lvh,direct"], samples: 3,
    machine: { cores: 2, cpuModel: "a cpu", memoryGiB: 8, kernel: "6.1.0-test", disk: { source: "/dev/vda1", fstype: "ext4", rotational: false }, kvm: "tcg" },
    lvh: lvhAbsent ? undefined : { from: "LVH", version: "lvh v0" },
    builders: [
      lvhAbsent ? { id: "lvh", tool: "lvh", accel: "-", absent: "not found" } : { id: "lvh (tcg)", tool: "lvh", accel: "tcg" },
      { id: "direct", tool: "direct", accel: "none" },
    ],
    forests: [{
      name: "seed", images: ["base.img", "k8s.qcow2"], samples,
      edits: [{ builder: "direct", cold, runs: {
        "no-op": { ...cold, seconds: 2 },
        "root action-only": { seconds: 5, flushSeconds: 0.5, peakKiB: 1024, images: { "base.img": { ...built(2, true, "t1"), source: "built" }, "k8s.qcow2": built(4, false, "t1") } },
      } }],
    }],
    conditions: ["a condition"],
  };
}

