// The settings that bound one image's build with the direct backend
// (builder/sandbox/bounds.ts, docs/sandbox.md#bounds), entries of
// settings.ts's table. They change how an image is built, never what it
// is: a build that fits its bounds makes the same image under any bounds it
// fits, so they are not part of the build key and changing them rebuilds
// nothing. Their defaults are the builder's (bounds.ts), not stack defaults
// that every Image's inputs would then hold.
import { count, duration, size } from "./settingkinds";
import { sizeBytes } from "./sizes";

export const BOUND_SETTINGS = {
  /** Memory of one image's build (its sandbox runs together); its tmpfs mounts each hold a quarter of it. @default "4G" */
  buildMemory: {
    kind: size(sizeBytes), stack: true, image: "given", forest: true, howOnly: true,
    doc: "memory of one image's sandbox runs together, such as `512M` or `4G`; its `/run` and `/dev/shm` each hold a quarter of it " +
      "(see [Bounds](sandbox.md#bounds))",
    defaultDoc: "`4G`",
  },
  /** Processes and threads of one image's build at once. @default 4096 */
  buildTasks: {
    kind: count, stack: true, image: "given", forest: true, howOnly: true,
    doc: "processes and threads of one image's sandbox runs at once",
    defaultDoc: "`4096`",
  },
  /** CPUs one image's build may use (a whole number). @default all of them */
  buildCpus: {
    kind: count, stack: true, image: "given", forest: true, howOnly: true,
    doc: "CPUs one image's sandbox runs may keep busy together (a whole number)",
    defaultDoc: "all",
  },
  /** Wall-clock time of one image's build: its sandbox runs end by then. @default "60m" */
  buildTimeout: {
    kind: duration, stack: true, image: "given", forest: true, howOnly: true,
    doc: "how long one image's build may run its packages' and actions' commands, such as `90s`, `30m` or `2h`",
    defaultDoc: "`60m`",
  },
  /** The largest file a build's sandbox runs may write. @default the image's disk size */
  buildFileSize: {
    kind: size(sizeBytes), stack: true, image: "given", forest: true, howOnly: true,
    doc: "the largest file one image's sandbox runs may write, such as `2G`",
    defaultDoc: "the image's disk size",
  },
} as const;
