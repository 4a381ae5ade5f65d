// Looking inside built images with the real tools: guestfish (read-only)
// for files, qemu-system-x86_64 (TCG) for booting.
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

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
 * Boot a disk image alone (BIOS, no -kernel) under qemu TCG and wait for a
 * login prompt on the serial console. Resolves with the console output;
 * qemu is always killed afterwards.
 */
export function bootToLogin(image: string, format: string, timeoutMs: number, consoleLog: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const qemu = spawn("qemu-system-x86_64", [
      "-machine", "accel=tcg", "-m", "1024", "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
      "-snapshot", "-drive", `file=${image},format=${format},if=ide`,
    ], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const finish = (err?: Error) => {
      clearTimeout(timer);
      qemu.kill("SIGKILL");
      fs.mkdirSync(path.dirname(consoleLog), { recursive: true });
      fs.writeFileSync(consoleLog, out);
      if (err) reject(err);
      else resolve(out);
    };
    const timer = setTimeout(
      () => finish(new Error(`no login prompt within ${timeoutMs / 1000} s; console in ${consoleLog}:\n${out.slice(-2000)}`)),
      timeoutMs,
    );
    const onData = (d: Buffer) => {
      out += d.toString("utf8");
      if (/login: *$/m.test(out)) finish();
    };
    qemu.stdout.on("data", onData);
    qemu.stderr.on("data", onData);
    qemu.on("exit", (code) => finish(new Error(`qemu exited (${code}) before a login prompt; console:\n${out.slice(-2000)}`)));
  });
}
