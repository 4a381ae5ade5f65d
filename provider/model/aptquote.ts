// apt's QuoteString, by which it names files after URLs and versions (its
// list files, its downloaded packages): each character of `bad`, '%', and
// every non-printable or non-ASCII byte written as %xx.
export function aptQuote(s: string, bad: string): string {
  let out = "";
  for (const byte of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(byte);
    out += bad.includes(c) || byte === 0x25 || byte <= 0x20 || byte >= 0x7f ? `%${byte.toString(16).padStart(2, "0")}` : c;
  }
  return out;
}
