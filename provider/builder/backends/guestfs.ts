// The guestfs backend, faithful to lvh's sequence of commands:
//
//   root image:    mmdebstrap -> tar (as root: mmdebstrap in the sandbox
//                  into a directory, then tar); guestfish: disk, (partition, boot loader,)
//                  file system, tar-in; virt-customize for the actions;
//                  qemu-img convert for qcow2.
//   derived image: qemu-img convert of the parent; qemu-img resize and a
//                  file-system grow when a size is set; one virt-customize run
//                  for packages and actions together (lvh starts the appliance
//                  once for the packages and once more per action).
//
// Unlike lvh, a bootable image puts its file system on a partition (lvh
// formats the whole disk over its own partition table) and installs the
// MBR boot code, so it boots from its own disk.
import * as fs from "node:fs";
import * as path from "node:path";
import { customizeInvocations } from "../../actions/customize";
import { DEFAULT_SIZE, imageFormat, isBootable } from "../../model/image";
import { actionContexts } from "./actioncontext";
import { EXTLINUX_CONF, FSTAB, partitionOffset, readDiskHead, SYSLINUX_MBR } from "../boot/layout";
import { type CommandError, MINUTE, run } from "../run/exec";
import { bootstrapCommand } from "./mmdebstrap";
import { bootstrapInSandbox, tarTree } from "./bootstrapsandbox";
import { removeTree } from "./direct/disk";
import { convertParent, openParent } from "./parentdisk";
import { FINISH_STEP } from "./direct/actions";
import { hasSshd, MAX_PACKAGES_REPORT } from "../sandbox/sandbox";
import { scriptText } from "../run/shell";
import type { BuildContext, Step } from "../run/steps";
import type { Backend, BackendBuild } from "./backend";


function guestfish(b: BackendBuild, ctx: BuildContext, label: string, args: string[], timeoutMs = 30 * MINUTE, capture: boolean | "quiet" = false, captureLimit?: number) {
  return run("guestfish", args, { label: `${ctx.image} ${label}`, log: ctx.log, signal: ctx.signal, timeoutMs, env: b.guestfsEnv, capture, captureLimit });
}

function qemuImg(ctx: BuildContext, args: string[]) {
  return run("qemu-img", args, { label: `${ctx.image} qemu-img`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE });
}

/** The disk the file system is made on: the target itself for raw, a raw scratch disk for qcow2. */
function rawDisk(b: BackendBuild): string {
  return b.format === "raw" ? b.target : path.join(b.workDir, "disk.raw");
}

function rootSteps(b: BackendBuild): Step[] {
  const tarball = path.join(b.workDir, "rootfs.tar");
  const tree = path.join(b.workDir, "rootfs");
  const bootable = isBootable(b.image);
  const disk = rawDisk(b);
  const steps: Step[] = [
    {
      name: "bootstrap root file system (mmdebstrap)",
      do: async (ctx) => {
        if (process.getuid?.() === 0) {
          // As root, in the sandbox (as the direct backend's): into a directory, packed on the host afterwards.
          await bootstrapInSandbox(b, { dir: tree }, bootable, [], ctx);
          await tarTree(tree, tarball, ctx);
          await removeTree(tree, ctx);
          return;
        }
        const { cmd, args, env } = bootstrapCommand(b, tarball, bootable);
        await run(cmd, args, { label: `${ctx.image} mmdebstrap`, log: ctx.log, signal: ctx.signal, timeoutMs: 60 * MINUTE, env });
      },
      cleanup: (ctx) => removeTree(tree, ctx),
    },
    {
      name: bootable ? "make bootable disk (guestfish)" : "make disk (guestfish)",
      do: async (ctx) => {
        const size = b.image.size ?? DEFAULT_SIZE;
        const script: string[][] = bootable
          ? [
              ["part-init", "/dev/sda", "mbr"],
              ["part-add", "/dev/sda", "p", "2048", "-1"],
              ["part-set-bootable", "/dev/sda", "1", "true"],
              ["mkfs", "ext4", "/dev/sda1"],
              ["mount", "/dev/sda1", "/"],
              ["tar-in", tarball, "/"],
              ["write", "/etc/fstab", FSTAB],
              ["mkdir-p", "/boot/extlinux"],
              ["write", "/boot/extlinux/extlinux.conf", EXTLINUX_CONF],
              // extlinux follows the /vmlinuz and /initrd.img links, so no kernel version is needed.
              ["extlinux", "/boot/extlinux"],
              ["umount", "/"],
              // The 440 bytes of boot code; the partition table after them is kept.
              ["upload", SYSLINUX_MBR, "/dev/sda"],
            ]
          : [["mkfs", "ext4", "/dev/sda"], ["mount", "/dev/sda", "/"], ["tar-in", tarball, "/"], ["umount", "/"]];
        await guestfish(b, ctx, "guestfish", ["-N", `${disk}=disk:${size}`, "--", ...guestfishScript(script)]);
      },
      cleanup: async () => fs.rmSync(tarball, { force: true }),
    },
  ];
  steps.push(...customizeSteps(b, disk, "raw"), sshHostKeysStep(b, disk, "raw", async () => (bootable ? "/dev/sda1" : "/dev/sda")));
  if (b.format === "qcow2") {
    steps.push({
      name: "convert to qcow2 (qemu-img)",
      do: (ctx) => qemuImg(ctx, ["convert", "-f", "raw", "-O", "qcow2", disk, b.target]).then(() => undefined),
      cleanup: async () => fs.rmSync(disk, { force: true }),
    });
  }
  return steps;
}

/** guestfish commands on its command line: one word per argument, commands separated by ":". */
function guestfishScript(commands: string[][]): string[] {
  return commands.flatMap((c, i) => (i ? [":", ...c] : c));
}

function derivedSteps(b: BackendBuild): Step[] {
  const parent = b.parentPath!;
  const steps: Step[] = [
    {
      name: "copy parent image (qemu-img convert)",
      do: async (ctx) => {
        await convertParent(parent, b.target, b.format, [], ctx);
      },
    },
  ];
  if (b.image.size) {
    steps.push({
      name: `grow disk to ${b.image.size} (qemu-img resize, guestfish resize2fs)`,
      do: async (ctx) => {
        const partitioned = await hasPartitionTable(parent, b.workDir, ctx);
        await qemuImg(ctx, ["resize", "-f", b.format, b.target, b.image.size!]);
        const fsDev = partitioned ? "/dev/sda1" : "/dev/sda";
        const script = [
          ["run"],
          ...(partitioned ? [["part-resize", "/dev/sda", "1", "-1"]] : []),
          ["e2fsck-f", fsDev],
          ["resize2fs", fsDev],
        ];
        await guestfish(b, ctx, "guestfish", [`--format=${b.format}`, "-a", b.target, "--", ...guestfishScript(script)]);
      },
    });
  }
  steps.push(...customizeSteps(b, b.target, b.format, b.image.packages));
  steps.push(sshHostKeysStep(b, b.target, b.format, async (ctx) => (await hasPartitionTable(parent, b.workDir, ctx) ? "/dev/sda1" : "/dev/sda")));
  return steps;
}

/** Whether the image starts with an MBR partition table (a bootable image) rather than a bare file system. */
async function hasPartitionTable(image: string, workDir: string, ctx: BuildContext): Promise<boolean> {
  if (imageFormat(image) === "raw") return partitionOffset(readDiskHead(image)) > 0;
  const out = path.join(workDir, "sector0");
  const source = await openParent(image, ctx);
  const format = source.name.startsWith("json:") ? [] : ["-f", source.format];
  await qemuImg(ctx, ["dd", ...format, "-O", "raw", "bs=512", "count=1", `if=${source.name}`, `of=${out}`]);
  return partitionOffset(readDiskHead(out)) > 0;
}

/** virt-customize for packages (derived images only) and actions: one run when merging steps. */
function customizeSteps(b: BackendBuild, disk: string, format: string, packages: readonly string[] = []): Step[] {
  const invocations = () => customizeInvocations(packages, b.image.actions, actionContexts(b), b.mergeSteps);
  const count = invocations().length;
  return Array.from({ length: count }, (_, i) => ({
    name: count > 1 ? `customize ${i + 1}/${count} (virt-customize)` : "customize (virt-customize)",
    do: async (ctx: BuildContext) => {
      // Local paths resolved and confined again now, right before virt-customize reads them.
      const args = invocations()[i];
      await run("virt-customize", ["--format", format, "-a", disk, ...args], {
        label: `${ctx.image} virt-customize`, log: ctx.log, signal: ctx.signal, timeoutMs: 120 * MINUTE, env: b.guestfsEnv,
      });
    },
  }));
}

/**
 * The last step: where the image has sshd, its host keys removed and made at
 * first boot instead (sh/ssh-host-keys.sh), by the guest's shell in the
 * appliance (guestfish sh), whose output says whether it has sshd; then
 * what it has installed, for its SBOM.
 */
/** guestfish's error where the image has no shell: "libguestfs: error: sh: /bin/sh: No such file or directory". */
const NO_SHELL = /\bsh: \/bin\/sh: No such file or directory/;

function sshHostKeysStep(b: BackendBuild, disk: string, format: string, device: (ctx: BuildContext) => Promise<string>): Step {
  return {
    name: `${FINISH_STEP} (guestfish)`,
    do: async (ctx) => {
      // In the same appliance, what the image has installed, read for its SBOM (sh/installed-packages.sh).
      const args = [`--format=${format}`, "-a", disk, "-m", await device(ctx), "--",
        "sh", scriptText("builder/sh/ssh-host-keys.sh"), ":", "sh", scriptText("builder/sh/installed-packages.sh")];
      try {
        const out = await guestfish(b, ctx, "guestfish", args, 30 * MINUTE, "quiet", MAX_PACKAGES_REPORT);
        const report = out.search(/^@@vm-images file /m);
        b.facts.sshd = hasSshd(report < 0 ? out : out.slice(0, report));
        b.facts.packagesReport = report < 0 ? "" : out.slice(report);
      } catch (err) {
        // A bare file system (a parent made by hand) has no shell, and no sshd.
        if (ctx.signal.aborted || !NO_SHELL.test(`${(err as Error).message}\n${(err as CommandError).stderrTail?.join("\n") ?? ""}`)) throw err;
        ctx.log.line(ctx.image, "the image has no /bin/sh: no guest script runs in it");
        b.facts.sshd = false;
      }
    },
  };
}

export const guestfsBackend: Backend = {
  name: "guestfs",
  steps: (b) => (b.parentPath ? derivedSteps(b) : rootSteps(b)),
};
