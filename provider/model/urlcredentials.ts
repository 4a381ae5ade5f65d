// Credentials in URLs (a mirror such as https://user:password@mirror.example/debian):
// taken out of every text we show, out of what goes into an image, and
// handed to apt in its auth.conf format instead.

const WITH_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@'"]*)@/gi;

/** Every `scheme://user:password@` (or `scheme://user@`) in `text` with the credentials replaced by [redacted]. */
export function redactUrlCredentials(text: string): string {
  return text.replace(WITH_CREDENTIALS, "$1[redacted]@");
}

export interface UrlCredentials {
  /** The URL without them. */
  url: string;
  /** apt's auth.conf lines for them (man apt_auth.conf); empty without credentials. */
  authConf: string;
  /** The decoded password and login, to check that they appear nowhere. */
  secrets: string[];
}

/** Split a URL into the URL without credentials and an apt auth.conf entry for them. */
export function splitUrlCredentials(value: string): UrlCredentials {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return { url: value, authConf: "", secrets: [] };
  }
  if (!u.username && !u.password) return { url: value, authConf: "", secrets: [] };
  const login = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = "";
  u.password = "";
  // apt matches `machine` against [protocol://]host[:port][/path] of the request, and uses
  // credentials over plain http only when the entry names the protocol.
  const machine = `${u.protocol}//${u.host}${u.pathname.replace(/\/$/, "")}`;
  const quote = (s: string) => (/[\s"]/.test(s) ? `"${s.replace(/"/g, "")}"` : s);
  return {
    url: u.toString(),
    authConf: `machine ${machine}\nlogin ${quote(login)}\npassword ${quote(password)}\n`,
    secrets: [login, password].filter((s) => s.length >= 3),
  };
}
