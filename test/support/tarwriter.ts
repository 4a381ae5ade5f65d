// Writes ustar archives entry by entry, hostile ones included (absolute
// paths, "..", links, devices), for the tests of safe extraction.
import * as fs from "node:fs";

export interface TarSpec {
  name: string;
  /** "0" file, "2" symlink, "3" character device, "5" directory. */
  type?: "0" | "1" | "2" | "3" | "4" | "5" | "6";
  data?: Buffer;
  linkname?: string;
  mode?: number;
}

function header(e: TarSpec, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s, off, len, "utf8");
  const oct = (n: number, off: number, len: number) => put(n.toString(8).padStart(len - 1, "0"), off, len - 1);
  put(e.name, 0, 100);
  oct(e.mode ?? (e.type === "5" ? 0o755 : 0o644), 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  oct(size, 124, 12);
  oct(0, 136, 12);
  h.fill(0x20, 148, 156);
  put(e.type ?? "0", 156, 1);
  put(e.linkname ?? "", 157, 100);
  put("ustar\u000000", 257, 8);
  if (e.type === "3") {
    oct(1, 329, 8);
    oct(3, 337, 8);
  }
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8);
  return h;
}

export function writeTar(file: string, entries: TarSpec[]): void {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === undefined || e.type === "0" ? (e.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    parts.push(header(e, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  fs.writeFileSync(file, Buffer.concat(parts));
}
