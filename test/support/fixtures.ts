// Local files for the actions that read them, as a user's repository has them.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Writes env.sh, bin/run.sh (an executable owned by uid and gid 1000, as
 * root), bootstrap/net.sh, extra.tar (extra/hello.txt) and a kernel install
 * dir under `dir`.
 */
export function writeActionFixtures(dir: string): void {
  fs.writeFileSync(path.join(dir, "env.sh"), "export VM_IMAGES_TEST=1\n");
  fs.mkdirSync(path.join(dir, "bin"));
  fs.writeFileSync(path.join(dir, "bin", "run.sh"), "#!/bin/sh\necho run\n", { mode: 0o750 });
  fs.chmodSync(path.join(dir, "bin", "run.sh"), 0o750);
  if (process.getuid?.() === 0) fs.chownSync(path.join(dir, "bin", "run.sh"), 1000, 1000);
  fs.mkdirSync(path.join(dir, "bootstrap"));
  fs.writeFileSync(path.join(dir, "bootstrap", "net.sh"), "#!/bin/sh\nip link\n", { mode: 0o755 });
  fs.mkdirSync(path.join(dir, "tar", "extra"), { recursive: true });
  fs.writeFileSync(path.join(dir, "tar", "extra", "hello.txt"), "from a tarball\n");
  execFileSync("tar", ["-cf", path.join(dir, "extra.tar"), "-C", path.join(dir, "tar"), "extra"]);
  fs.mkdirSync(path.join(dir, "kernel", "boot"), { recursive: true });
  fs.mkdirSync(path.join(dir, "kernel", "lib", "modules", "9.9.9-test"), { recursive: true });
  fs.writeFileSync(path.join(dir, "kernel", "boot", "vmlinuz-9.9.9-test"), "not really a kernel\n");
  fs.writeFileSync(path.join(dir, "kernel", "lib", "modules", "9.9.9-test", "modules.dep"), "\n");
}
