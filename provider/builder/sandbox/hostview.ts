// The view of the build host that a root image's mmdebstrap runs in, as
// bwrap options for sh/sandbox-run.sh (VM_IMAGES_VIEW). mmdebstrap started
// as root picks its root mode: package scripts run under a plain chroot,
// which a process with CAP_SYS_CHROOT leaves at will (chroot into a
// subdirectory, then chdir ../..). So mmdebstrap itself, our hooks and the
// host's apt, dpkg and gpg run in the children's sandbox (private PID,
// mount, UTS, IPC and network namespaces, reduced capabilities without
// CAP_SYS_ADMIN or CAP_MKNOD, an empty environment), on bwrap's empty root
// with only this: the host's programs read-only, the few files of /etc
// that apt, dpkg, gpg and perl read (no shadow, no keys of the host), the
// target and the build's scratch directories. A chroot escape lands here.
//
// Not mmdebstrap's unshare mode: as root it does not map users (it runs in
// a mount namespace only, with every capability), and without root it
// needs subordinate ids for the build's user. Not its extract variant with
// dpkg in the image's sandbox: mmdebstrap's ordering of the essential set
// (and its workarounds) would have to be written again.
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * What of /etc the view gets, when the host has it: apt's trusted keys (not
 * its configuration, sources or auth.conf: mmdebstrap's apt reads its own),
 * dpkg's and perl's configuration, the CA certificates (not /etc/ssl/private),
 * the name service, the dynamic linker's cache and the host name.
 */
const ETC = [
  "apt/trusted.gpg", "apt/trusted.gpg.d", "apt/keyrings", "dpkg", "alternatives", "perl", "ssl/certs", "ssl/openssl.cnf",
  "ca-certificates", "ca-certificates.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
  "nsswitch.conf", "host.conf", "gai.conf", "hosts", "protocols", "services", "localtime", "debian_version", "os-release",
  // mmdebstrap copies it into the image, where our hook rewrites it: its mode stays, as in root mode on the host.
  "hostname",
];

/** The top-level links or directories of the host's programs (merged /usr or not). */
const TOP = ["bin", "lib", "lib32", "lib64", "libx32", "sbin"];

/** The accounts apt and dpkg look up on the host: root and apt's download user, nothing else of the host's. */
function accounts(file: string, names: string[]): string {
  let lines: string[] = [];
  try {
    lines = fs.readFileSync(file, "utf8").split("\n");
  } catch {
    // No file: root alone.
  }
  const kept = lines.filter((l) => names.includes(l.split(":")[0]));
  return `${kept.length ? kept.join("\n") : `root:x:0:0:root:/root:/bin/sh`}\n`;
}

export interface HostView {
  /** The image's root (the mount point of its disk): read-write, with /proc and the device files of bwrap's /dev. */
  target: string;
  /** Directories read-write at their own paths (mmdebstrap's TMPDIR, where hooks write). */
  rw: string[];
  /** Files and directories read-only at their own paths (our hooks, files hooks read, the package lists cache). */
  ro: string[];
  /** The shared .deb cache, read-only at the target's var/cache/vm-images-debs (mmdebstrap-hook.sh link-debs). */
  debCache?: string;
}

/** The bwrap options of the view (sandbox-run.sh reads them NUL-separated); `dir` gets the view's own files (passwd, group). */
export function hostViewArgs(v: HostView, dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const passwd = path.join(dir, "passwd");
  const group = path.join(dir, "group");
  fs.writeFileSync(passwd, accounts("/etc/passwd", ["root", "_apt", "nobody"]));
  fs.writeFileSync(group, accounts("/etc/group", ["root", "nogroup"]));
  const top = TOP.flatMap((d) => {
    const p = `/${d}`;
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st) return [];
    return st.isSymbolicLink() ? ["--symlink", fs.readlinkSync(p), p] : ["--ro-bind", p, p];
  });
  const etc = ETC.flatMap((f) => ["--ro-bind-try", `/etc/${f}`, `/etc/${f}`]);
  // Before the target: it may lie under /tmp or /var/tmp, which are the view's own.
  return [
    "--ro-bind", "/usr", "/usr", ...top,
    "--dir", "/etc", ...etc, "--ro-bind", passwd, "/etc/passwd", "--ro-bind", group, "/etc/group",
    "--dir", "/root", "--tmpfs", "/tmp", "--dir", "/var/tmp",
    // Read-only first: a directory read-write may lie in one of them.
    ...v.ro.flatMap((d) => ["--ro-bind", d, d]),
    ...v.rw.flatMap((d) => ["--bind", d, d]),
    "--bind", v.target, v.target,
    // What mmdebstrap would mount in the chroot (it cannot, without CAP_SYS_ADMIN): a fresh /proc
    // (of the sandbox's PID namespace) and the device files of bwrap's /dev, bound one by one, since
    // mmdebstrap makes /dev's links itself. bootstrap-disk.sh turns them into the image's own nodes.
    "--proc", path.join(v.target, "proc"),
    ...["null", "zero", "full", "random", "urandom", "tty"].flatMap((d) => ["--dev-bind", `/dev/${d}`, path.join(v.target, "dev", d)]),
    ...(v.debCache ? ["--ro-bind", v.debCache, path.join(v.target, "var/cache/vm-images-debs")] : []),
  ];
}

/** The view's options written to `file`, NUL-separated, for VM_IMAGES_VIEW. */
export function writeHostView(file: string, v: HostView): string {
  const args = hostViewArgs(v, path.join(path.dirname(file), "view-etc"));
  fs.writeFileSync(file, args.map((a) => `${a}\0`).join(""));
  return file;
}
