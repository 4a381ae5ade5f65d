// A minimal streaming tar reader (ustar, GNU and pax) for the flattened file
// systems `crane export` writes. It only reads and never touches the file
// system; anything it does not understand is an error rather than a guess.

export type EntryType = "file" | "dir" | "symlink" | "hardlink" | "chardev" | "blockdev" | "fifo" | "other";

export interface TarEntry {
  name: string;      // after pax/GNU long-name overrides, as stored (not normalised)
  type: EntryType;
  typeflag: string;  // the raw flag character
  size: number;      // bytes of data that follow
  mode: number;
  /** Owner, group and modification time (seconds), after pax overrides. */
  uid: number;
  gid: number;
  mtime: number;
  linkname: string;
}

const BLOCK = 512;

/** Reads exact byte counts from an async stream of Buffers. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.buf.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    }
    return this.buf.length >= n;
  }

  async exact(n: number): Promise<Buffer> {
    if (!(await this.fill(n))) throw new Error(`tar: unexpected end of archive (wanted ${n} bytes)`);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Yields up to `n` bytes as they arrive, without holding more than one chunk. */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    while (n > 0) {
      if (!(await this.fill(1))) throw new Error("tar: unexpected end of archive in file data");
      const take = Math.min(n, this.buf.length);
      const out = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      n -= take;
      yield out;
    }
  }

  /** Reads to the end of the stream; only zero bytes may follow the end-of-archive marker. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.buf.some((b) => b !== 0)) throw new Error("tar: data after end-of-archive");
      this.buf = Buffer.alloc(0);
      if (this.done) return;
      const r = await this.it.next();
      if (r.done) this.done = true;
      else this.buf = r.value;
    }
  }

  /** Stops the underlying stream (destroys a Node Readable). */
  async abort(): Promise<void> {
    await this.it.return?.();
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.chunks(n)) { /* discard */ }
  }
}

function cstr(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.subarray(0, nul === -1 ? b.length : nul).toString("utf8");
}

/** Octal, or GNU base-256 (high bit of the first byte set) for values >= 8 GiB. */
function num(b: Buffer, what: string): number {
  if (b[0] & 0x80) {
    if (b[0] !== 0x80) throw new Error(`tar: negative or oversized base-256 ${what}`);
    let v = 0n;
    for (const byte of b.subarray(1)) v = (v << 8n) | BigInt(byte);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`tar: ${what} too large`);
    return Number(v);
  }
  const s = cstr(b).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw new Error(`tar: bad octal ${what} ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum === num(h.subarray(148, 156), "checksum");
}

/** Parses pax records "LEN key=value\n". */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let off = 0;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp === -1) throw new Error("tar: malformed pax record");
    const len = parseInt(data.subarray(off, sp).toString("ascii"), 10);
    if (!Number.isSafeInteger(len) || len <= 0 || off + len > data.length) throw new Error("tar: malformed pax record length");
    const rec = data.subarray(sp + 1, off + len - 1).toString("utf8"); // drop trailing \n
    if (data[off + len - 1] !== 0x0a) throw new Error("tar: pax record without newline");
    const eq = rec.indexOf("=");
    if (eq === -1) throw new Error("tar: pax record without '='");
    out.set(rec.slice(0, eq), rec.slice(eq + 1));
    off += len;
  }
  return out;
}

const TYPES: Record<string, EntryType> = {
  "0": "file", "\0": "file", "7": "file", "5": "dir", "2": "symlink", "1": "hardlink",
  "3": "chardev", "4": "blockdev", "6": "fifo",
};

const MAX_META = 1 << 20; // pax/GNU long-name payloads larger than 1 MiB are refused

/**
 * Iterates the entries of a tar stream. For each entry, `onEntry` gets the header and
 * an async iterable of its data; data not consumed by `onEntry` is skipped.
 */
export async function readTar(
  source: AsyncIterable<Buffer>,
  onEntry: (e: TarEntry, data: AsyncIterable<Buffer>) => Promise<void>,
): Promise<void> {
  const r = new ByteReader(source[Symbol.asyncIterator]());
  try {
    await readEntries(r, onEntry);
  } catch (err) {
    await r.abort();
    throw err;
  }
}

async function readEntries(
  r: ByteReader,
  onEntry: (e: TarEntry, data: AsyncIterable<Buffer>) => Promise<void>,
): Promise<void> {
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const h = await r.exact(BLOCK);
    if (h.every((b) => b === 0)) return r.drain(); // end-of-archive; the rest must be zero padding
    if (!checksumOk(h)) throw new Error("tar: header checksum mismatch");
    const magic = h.subarray(257, 263).toString("latin1");
    if (magic !== "ustar\0" && magic !== "ustar ") throw new Error(`tar: not a ustar/GNU/pax header (${JSON.stringify(magic)})`);
    const typeflag = String.fromCharCode(h[156]);
    let size = num(h.subarray(124, 136), "size");
    const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

    if (typeflag === "x" || typeflag === "g" || typeflag === "L" || typeflag === "K") {
      if (size > MAX_META) throw new Error(`tar: ${typeflag} header too large`);
      const data = (await r.exact(padded(size))).subarray(0, size);
      if (typeflag === "x") pax = paxRecords(data);
      else if (typeflag === "g") {
        // Global headers could rename or resize later entries; crane never writes them.
        const keys = [...paxRecords(data).keys()].filter((k) => !["comment", "mtime"].includes(k));
        if (keys.length) throw new Error(`tar: refusing global pax header with ${keys.join(",")}`);
      } else if (typeflag === "L") longName = cstr(data);
      else longLink = cstr(data);
      continue;
    }

    const prefix = magic === "ustar\0" ? cstr(h.subarray(345, 500)) : "";
    let name = cstr(h.subarray(0, 100));
    if (prefix) name = `${prefix}/${name}`;
    name = pax.get("path") ?? longName ?? name;
    const linkname = pax.get("linkpath") ?? longLink ?? cstr(h.subarray(157, 257));
    if (pax.has("size")) {
      const s = pax.get("size")!;
      if (!/^[0-9]+$/.test(s) || !Number.isSafeInteger(Number(s))) throw new Error(`tar: bad pax size ${JSON.stringify(s)}`);
      size = Number(s);
    }
    const type = TYPES[typeflag] ?? "other";
    // Only regular files carry data in a flattened export; other types with a size are suspicious.
    if (type !== "file" && type !== "other" && size !== 0 && type !== "hardlink") throw new Error(`tar: ${name}: type ${typeflag} with data`);
    const paxNumber = (key: string, header: number) => {
      const v = pax.get(key);
      return v !== undefined && /^[0-9]+(\.[0-9]+)?$/.test(v) ? Math.floor(Number(v)) : header;
    };
    const entry: TarEntry = {
      name, type, typeflag, size, mode: num(h.subarray(100, 108), "mode"), linkname,
      uid: paxNumber("uid", num(h.subarray(108, 116), "uid")), gid: paxNumber("gid", num(h.subarray(116, 124), "gid")),
      mtime: paxNumber("mtime", num(h.subarray(136, 148), "mtime")),
    };
    pax = new Map();
    longName = longLink = undefined;

    let consumed = 0;
    const data = (async function* () {
      for await (const c of r.chunks(size - consumed)) {
        consumed += c.length;
        yield c;
      }
    })();
    await onEntry(entry, data);
    await r.skip(size - consumed);
    await r.skip(padded(size) - size);
  }
}
