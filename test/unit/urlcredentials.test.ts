import { expect } from "chai";
import { redactUrlCredentials, splitUrlCredentials } from "../../provider/model/urlcredentials";

describe("credentials in URLs", () => {
  const table: [string, string][] = [
    ["E: Failed to fetch http://ci:s3cret@mirror.example/debian/dists/bookworm/InRelease 401", "E: Failed to fetch http://[redacted]@mirror.example/debian/dists/bookworm/InRelease 401"],
    ["$ mmdebstrap bookworm /t/root.tar 'https://u:p%40ss@m.example:8443/debian'", "$ mmdebstrap bookworm /t/root.tar 'https://[redacted]@m.example:8443/debian'"],
    ["user only: https://token@m.example/debian", "user only: https://[redacted]@m.example/debian"],
    ["no credentials: http://deb.debian.org/debian and user@example.com", "no credentials: http://deb.debian.org/debian and user@example.com"],
  ];
  for (const [text, redacted] of table) it(`redacts ${JSON.stringify(text.slice(0, 40))}`, () => expect(redactUrlCredentials(text)).to.equal(redacted));

  it("splits a mirror into the URL the image names and apt's auth.conf entry", () => {
    expect(splitUrlCredentials("https://ci:p%40ss@m.example:8443/debian/")).to.deep.equal({
      url: "https://m.example:8443/debian/",
      authConf: "machine https://m.example:8443/debian\nlogin ci\npassword p@ss\n",
      secrets: ["p@ss"],
    });
    expect(splitUrlCredentials("http://deb.debian.org/debian")).to.deep.equal({ url: "http://deb.debian.org/debian", authConf: "", secrets: [] });
  });
});
