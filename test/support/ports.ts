// A free TCP port on 127.0.0.1 for a server a test starts, and this
// machine's own address, for a server that a build's sandbox must reach
// (slirp4netns cannot reach the host's loopback).
import { execFileSync } from "node:child_process";
import * as net from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The first global IPv4 address of this machine's interfaces. */
export function hostAddress(): string {
  const address = execFileSync("/bin/sh", ["-c", "ip -o -4 addr show scope global | awk '{ sub(/\\/.*/, \"\", $4); print $4; exit }'"], { encoding: "utf8" }).trim();
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(address)) throw new Error(`no global IPv4 address on this machine (ip said ${JSON.stringify(address)})`);
  return address;
}
