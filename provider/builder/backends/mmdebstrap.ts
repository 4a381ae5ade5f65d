// The mmdebstrap command line of root images, both backends: the image's
// packages (and the kernel of a bootable image), through the shared .deb
// cache, with our hooks from sh/mmdebstrap-hook.sh.
import * as fs from "node:fs";
import * as path from "node:path";
import { shQuote } from "../../actions";
import { splitUrlCredentials } from "../../model/urlcredentials";
import { kernelPackage } from "../../model/arch";
import type { BackendBuild } from "./backend";
import { aptListsCacheDir, debCacheDir } from "../cache/dirs";
import { hostScript } from "../run/shell";


/**
 * The packages a bootable image gets besides its own: the kernel, as lvh's
 * linux-image-amd64, and on arm64 the GRUB EFI modules its boot loader is
 * made from (boot/uefi.ts).
 */
export function bootPackages(arch: string): string[] {
  return arch === "arm64" ? [kernelPackage(arch), "grub-efi-arm64-bin"] : [kernelPackage(arch)];
}

type HookPhase = "setup" | "extract" | "essential" | "customize";

/** An mmdebstrap hook option running one of our named hooks with the root directory and `args`. */
export function hook(phase: HookPhase, name: string, ...args: string[]): string {
  return `--${phase}-hook=sh ${shQuote(hostScript("mmdebstrap-hook.sh"))} ${name} "$1"${args.map((a) => ` ${shQuote(a)}`).join("")}`;
}

/**
 * What mmdebstrap is given of our environment when it starts from an empty
 * one (it passes its environment on to the package scripts it runs): apt's
 * proxies, which a mirror may be reachable through only, and
 * SOURCE_DATE_EPOCH, which mmdebstrap reads.
 */
const PASSED_ON = ["http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy", "SOURCE_DATE_EPOCH"];

/**
 * mmdebstrap's environment: its scratch directory, and PASSED_ON's
 * variables we have (in either case, for the proxies); the build's source
 * date, when it has one, before ours.
 */
export function bootstrapEnv(workDir: string, ours: NodeJS.ProcessEnv = process.env, epoch?: number): Record<string, string> {
  const names = PASSED_ON.flatMap((n) => (n.endsWith("_proxy") ? [n, n.toUpperCase()] : [n]));
  const passed = Object.fromEntries(names.filter((n) => ours[n] !== undefined).map((n) => [n, ours[n] as string]));
  return { ...passed, ...(epoch === undefined ? {} : { SOURCE_DATE_EPOCH: String(epoch) }), TMPDIR: workDir };
}

/**
 * Where mmdebstrap runs in the sandbox (bootstrapsandbox.ts, bootstrap-disk.sh):
 * the directory the new .debs go to (adopted by the caller only if a
 * verified index lists them), the handoff directory whose staged/ gets the
 * package lists before any package script runs, and mmdebstrap's TMPDIR.
 */
export interface InSandbox {
  newDebs: string;
  handoff: string;
  tmp: string;
}

/** Where the hooks in the sandbox stage the package lists, under a handoff directory (a root's layout, for lists-out). */
export const stagedLists = (handoff: string) => path.join(handoff, "staged", "root", "var", "lib", "apt", "lists");

/**
 * mmdebstrap into `target` (a tarball or a directory, by its name), with the
 * image's packages, through the shared .deb cache. `extraHooks` are further
 * mmdebstrap options (customize hooks of the direct backend); `sandbox`:
 * the caller runs the command in the sandbox (bootstrap-disk.sh), so in a
 * private mount namespace too.
 */
export function bootstrapCommand(
  b: BackendBuild,
  target: string,
  bootable: boolean,
  extraHooks: string[] = [],
  sandbox?: InSandbox,
  epoch?: number,
): { cmd: string; args: string[]; env: Record<string, string> } {
  const packages = [...(bootable ? bootPackages(b.arch) : []), ...b.image.packages];
  const cache = debCacheDir(b.cacheDir);
  fs.mkdirSync(path.join(cache, "partial"), { recursive: true });
  const root = process.getuid?.() === 0;
  // Keep the downloaded packages. As root, the cache is mounted read-only
  // (in mmdebstrap's private mount namespace) and linked into the archive
  // directory, and what apt downloads joins it at the end; otherwise it is
  // copied in before and the new packages out after.
  const cacheHooks = sandbox
    ? { setup: [hook("setup", "link-debs")], customize: [hook("customize", "unlink-debs", sandbox.newDebs)] }
    : root
    ? { setup: [hook("setup", "mount-debs", cache)], customize: [hook("customize", "unmount-debs", cache)] }
    : { setup: [hook("setup", "make-archives"), `--setup-hook=sync-in ${cache} /var/cache/apt/archives/`],
        customize: [`--customize-hook=sync-out /var/cache/apt/archives ${cache}`] };
  // apt's package lists from the last root build, and this one's kept for
  // the next (as root: the hooks run on the host, before any package script).
  const lists = aptListsCacheDir(b.cacheDir);
  const listsHooks = sandbox
    ? { setup: [hook("setup", "lists-in", lists)], extract: [hook("extract", "lists-out", stagedLists(sandbox.handoff))] }
    : root ? { setup: [hook("setup", "lists-in", lists)], extract: [hook("extract", "lists-out", lists)] } : { setup: [], extract: [] };
  // A mirror's user:password goes to apt's auth.conf.d for the build, not into the image's sources.
  const mirror = b.mirror ? splitUrlCredentials(b.mirror) : undefined;
  const auth: { setup: string[]; customize: string[] } = { setup: [], customize: [] };
  if (mirror?.authConf) {
    const file = path.join(b.workDir, "apt-auth.conf");
    fs.writeFileSync(file, mirror.authConf, { mode: 0o600 });
    auth.setup.push(hook("setup", "apt-auth-on", file));
    auth.customize.push(hook("customize", "apt-auth-off"));
  }
  const args = [
    "--verbose",
    // A foreign architecture's package scripts run through binfmt_misc (qemu-user); amd64's command line is as it was.
    ...(b.arch === "amd64" ? [] : [`--architectures=${b.arch}`]),
    ...(packages.length ? [`--include=${packages.join(",")}`] : []),
    // In a chroot, initramfs-tools cannot see the root device, so it would
    // leave fsck out of the initramfs; tell it the root file system type.
    ...(bootable ? [hook("setup", "fstype")] : []),
    "--skip=essential/unlink",
    // A snapshot's Release files expired long ago; its image's apt (in children too) is told so.
    ...(b.snapshot ? ['--aptopt=Acquire::Check-Valid-Until "false"'] : []),
    ...cacheHooks.setup,
    ...listsHooks.setup,
    ...listsHooks.extract,
    ...auth.setup,
    ...extraHooks,
    // After every extract hook: the staged files leave the sandbox's reach before any package script runs.
    ...(sandbox ? [hook("extract", "handoff", sandbox.handoff)] : []),
    // The sandbox made the mount points of /proc, the device files and the .deb cache in the target,
    // and mmdebstrap cannot mount there (no CAP_SYS_ADMIN).
    ...(sandbox ? ["--skip=check/empty", "--skip=chroot/mount"] : []),
    hook("customize", "host-independent"),
    ...cacheHooks.customize,
    hook("customize", "remove-debs"),
    ...auth.customize,
    b.suite,
    target,
    ...(mirror ? [mirror.url] : []),
  ];
  // As root, mmdebstrap mounts /proc, /sys and /dev into its scratch root. In
  // a private mount namespace those mounts end with it, however it ends, so
  // removing the work directory afterwards can never reach the host's. A
  // caller that runs it in a namespace of its own says so.
  if (root && !sandbox) {
    return { cmd: "unshare", args: ["--mount", "--propagation", "private", "--", "mmdebstrap", ...args], env: bootstrapEnv(b.workDir, process.env, epoch) };
  }
  return { cmd: "mmdebstrap", args, env: bootstrapEnv(sandbox?.tmp ?? b.workDir, process.env, epoch) };
}
