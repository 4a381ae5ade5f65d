import { expect } from "chai";
import { type Action, type ActionContext, customizeArgs, guestOps } from "../../provider/actions";
import { customizeInvocations } from "../../provider/actions/customize";
import { configWarnings, parseImageConfig } from "../../provider/model/config";

const ctx: ActionContext = {
  resolve: (p) => `/base/${p}`,
  kernelIn: () => "vmlinuz-6.9.0",
  scratch: (name) => `/tmp/s-${name}`,
  modeOf: () => ({ mode: 0o750, uid: 1000, gid: 100 }),
};

const action = (a: unknown): Action => parseImageConfig({ name: "a.img", actions: [a] }).actions[0];

describe("actions in the VM-less build's sandbox", () => {
  it("runs chmod with the octal mode in both spellings", () => {
    for (const permissions of ["755", "0755"]) {
      expect(guestOps(action({ type: "chmod", permissions, file: "/x" }), ctx)).to.deep.equal([{ op: "exec", argv: ["chmod", "0755", "/x"] }]);
    }
  });

  it("warns that lvh reads a chmod mode without a leading 0 as decimal", () => {
    const img = parseImageConfig({ name: "a.img", actions: [{ type: "chmod", permissions: "755", file: "/x" }, { type: "chmod", permissions: "0644", file: "/y" }] });
    expect(configWarnings([img])).to.deep.equal([
      'image "a.img": actions[0] (chmod): chmod 755 /x: read as the octal mode 0755; lvh (virt-customize) reads a mode without a leading 0 as decimal (755 = 01363); write 0755 to say so',
    ]);
  });

  it("uploads with the host file's mode and owner, into a directory under the file's name", () => {
    expect(guestOps(action({ type: "upload", file: "bin/run.sh", dest: "/usr/local/bin" }), ctx)).to.deep.equal([
      { op: "script", script: "upload.sh", stdinFile: "/base/bin/run.sh", args: ["/usr/local/bin", "run.sh", "750", "1000", "100"] },
    ]);
  });
});

describe("actions as virt-customize arguments", () => {
  const table: [unknown, string[][]][] = [
    [{ type: "run-command", cmd: "passwd -d root" }, [["--run-command", "passwd -d root"]]],
    [{ type: "copy-in", localPath: "bootstrap", remoteDir: "/root" }, [["--copy-in", "/base/bootstrap:/root"]]],
    [{ type: "set-hostname", hostname: "node1" }, [["--hostname", "node1"]]],
    [{ type: "mkdir", dir: "/etc/x" }, [["--mkdir", "/etc/x"]]],
    [{ type: "upload", file: "env.sh", dest: "/etc/env.sh" }, [["--upload", "/base/env.sh:/etc/env.sh"]]],
    [{ type: "chmod", permissions: "0755", file: "/etc/env.sh" }, [["--chmod", "0755:/etc/env.sh"]]],
    // virt-customize reads a mode without a leading 0 as decimal: it gets the octal one meant.
    [{ type: "chmod", permissions: "755", file: "/etc/env.sh" }, [["--chmod", "0755:/etc/env.sh"]]],
    [{ type: "append-line", file: "/etc/hosts", line: "1.2.3.4 a: b" }, [["--append-line", "/etc/hosts:1.2.3.4 a: b"]]],
    [{ type: "link", target: "/usr/bin/vim", link: "/usr/bin/vi" }, [["--link", "/usr/bin/vim:/usr/bin/vi"]]],
    [{ type: "install-kernel", kernelInstallDir: "k" }, [
      ["--copy-in", "/base/k/boot:/"], ["--copy-in", "/base/k/lib/modules:/lib/"], ["--link", "/boot/vmlinuz-6.9.0:/vmlinuz"],
    ]],
    [{ type: "tar-in", tarFile: "x.tar", remoteDir: "/opt/it's" }, [
      ["--upload", "/base/x.tar:/tmp/s-x.tar"],
      ["--run-command", `mkdir -p '/opt/it'\\''s' && tar -xpf '/tmp/s-x.tar' -C '/opt/it'\\''s' && rm -f '/tmp/s-x.tar'`],
    ]],
  ];
  for (const [input, args] of table) {
    it(`maps ${(input as Action).type}`, () => expect(customizeArgs(action(input), ctx)).to.deep.equal(args));
  }

  const actions = [action({ type: "mkdir", dir: "/a" }), action({ type: "run-command", cmd: "true" })];

  it("merges packages and every action into one invocation, in order", () => {
    expect(customizeInvocations(["jq", "curl"], actions, () => ctx, true)).to.deep.equal([
      ["--install", "jq,curl", "--mkdir", "/a", "--run-command", "true"],
    ]);
  });

  it("keeps one invocation per step without merging", () => {
    expect(customizeInvocations(["jq"], actions, () => ctx, false)).to.deep.equal([
      ["--install", "jq"], ["--mkdir", "/a"], ["--run-command", "true"],
    ]);
  });

  it("needs no invocation for nothing", () => {
    expect(customizeInvocations([], [], () => ctx, true)).to.deep.equal([]);
  });
});
