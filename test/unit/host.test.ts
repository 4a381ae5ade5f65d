// Host facts: tools are found in the standard system directories whatever
// PATH the provider was started with, so `auto` (and the build key, which
// holds the backend) does not depend on it.
import { expect } from "chai";
import { searchPath, SYSTEM_DIRS } from "../../provider/builder/run/host";
import { resolveBackend } from "../../provider/model/host";

describe("host facts", () => {
  it("searches PATH first, then the standard system directories it lacks", () => {
    expect(searchPath("/opt/tools:/usr/bin").split(":")).to.deep.equal(["/opt/tools", "/usr/bin", ...SYSTEM_DIRS.filter((d) => d !== "/usr/bin")]);
    expect(searchPath("").split(":")).to.deep.equal(SYSTEM_DIRS);
  });

  const all = new Set(["mmdebstrap", "mke2fs", "unshare", "sfdisk", "extlinux", "chroot", "mount", "bwrap", "slirp4netns", "nft", "keyctl"]);
  const table: [string, boolean, Set<string>, string][] = [
    ["auto", true, all, "direct"],
    ["auto", false, all, "guestfs"],
    ["auto", true, new Set([...all].filter((t) => t !== "extlinux")), "guestfs"],
    ["guestfs", true, all, "guestfs"],
    ["direct", false, new Set(), "direct"],
  ];
  for (const [requested, root, tools, expected] of table) {
    it(`resolves ${requested} as ${root ? "root" : "a user"} with ${tools.size} tools to ${expected}`, () => {
      expect(resolveBackend(requested, { root, tools })).to.equal(expected);
    });
  }
});
