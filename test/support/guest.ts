// Looking inside built images with the real tools: guestfish (read-only)
// for files, and the provider's boot check (qemu, TCG) for booting.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { bootToLogin as bootCheck, type DiskController } from "../../provider/builder/boot/check";

const execFileP = promisify(execFile);

export const GUESTFS_ENV = {
  ...process.env,
  LIBGUESTFS_BACKEND: "direct",
  LIBGUESTFS_BACKEND_SETTINGS: process.env.LIBGUESTFS_BACKEND_SETTINGS ?? "force_tcg",
};

/**
 * Run read-only guestfish commands against an image, with its root file
 * system mounted (-i inspection does not recognise a bare minbase, so mount
 * the right device ourselves), and return each command's output.
 */
export async function guestfishRead(image: string, commands: string[][], partitioned = false): Promise<string[]> {
  const sep = "::vm-images-separator::";
  const dev = partitioned ? "/dev/sda1" : "/dev/sda";
  const args = ["--ro", "-a", image, "-m", dev, "--"];
  commands.forEach((c, i) => args.push(...(i ? [":"] : []), ...c, ":", "echo", sep));
  const { stdout } = await execFileP("guestfish", args, { env: GUESTFS_ENV, maxBuffer: 16 << 20, timeout: 10 * 60_000 });
  return stdout.split(`${sep}\n`).slice(0, commands.length).map((s) => s.replace(/\n+$/, ""));
}

/**
 * Boot a disk image alone (BIOS, no -kernel) under qemu TCG, with the
 * provider's own boot check, and wait for a login prompt on the serial
 * console. Resolves with the console output, which is also saved in
 * `consoleLog`.
 */
export async function bootToLogin(image: string, format: "raw" | "qcow2", timeoutMs: number, consoleLog: string, disk?: DiskController): Promise<string> {
  fs.mkdirSync(path.dirname(consoleLog), { recursive: true });
  const lines: string[] = [];
  try {
    const { console } = await bootCheck({ image, format, accel: "tcg", timeoutMs, disk, onLine: (l) => lines.push(l) });
    fs.writeFileSync(consoleLog, console);
    return console;
  } finally {
    if (!fs.existsSync(consoleLog)) fs.writeFileSync(consoleLog, `${lines.join("\n")}\n`);
  }
}
