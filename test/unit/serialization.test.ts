// The provider code Pulumi stores in the state must stay a small forwarder
// that loads this package by name: no file paths, no captured modules.
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { forwardingProvider } from "../../provider/pulumi/forwarding";

describe("serialized dynamic providers", () => {
  for (const name of ["manifestProvider", "imageProvider", "pullProvider"] as const) {
    it(`${name} serializes to a forwarder by package name`, async () => {
      const provider = forwardingProvider(name);
      // As pulumi.dynamic.Resource serializes its provider.
      const { text } = await pulumi.runtime.serializeFunction(() => provider, { isFactoryFunction: true });
      expect(text.length).to.be.lessThan(4096);
      expect(text).to.include('require("pulumi-vm-images/provider")');
      expect(text).to.include(`"${name}"`);
      const requires = [...text.matchAll(/require\(([^)]*)\)/g)].map((m) => m[1]);
      expect(new Set(requires)).to.deep.equal(new Set(['"pulumi-vm-images/provider"']));
      expect(text).not.to.match(/\/(work|home|root|tmp)\//);
      expect(text).not.to.match(/zod|execa|__dirname|__filename/);
    });
  }
});
