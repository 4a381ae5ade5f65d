// The sandbox's allowed hosts: only an address, a CIDR or a host name reaches
// the nftables ruleset (builder/sh/sandbox-net.sh), never other text.
import { expect } from "chai";
import { parseNetworkHost } from "../../provider/model/nethost";

describe("the sandbox's allowed hosts", () => {
  it("reads addresses and CIDRs of both families, and host names", () => {
    expect(parseNetworkHost("10.1.2.3")).to.deep.equal({ cidr: "10.1.2.3", family: 4 });
    expect(parseNetworkHost("10.1.0.0/16")).to.deep.equal({ cidr: "10.1.0.0/16", family: 4 });
    expect(parseNetworkHost("fd00::/8")).to.deep.equal({ cidr: "fd00::/8", family: 6 });
    expect(parseNetworkHost("mirror.internal")).to.deep.equal({ name: "mirror.internal" });
  });

  it("refuses anything else, ruleset syntax above all", () => {
    for (const bad of ["10.0.0.1/33", "fd00::/129", "10.0.0.1/8/8", "10.0.0.1/x", "mirror.internal/16", "10.0.0.1, 0.0.0.0/0",
      "a b", "{ 0.0.0.0/0 }", "1.2.3", "-x.example", "", "host;accept"]) {
      expect(parseNetworkHost(bad), bad).to.equal(undefined);
    }
  });
});
