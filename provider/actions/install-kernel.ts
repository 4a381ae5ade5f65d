// install-kernel: install a kernel built on the host into the image.
//
//   lvh:         { "type": "install-kernel", "op": { "KernelInstallDir": "kernels/bpf-next" } }
//   TypeScript:  { type: "install-kernel", kernelInstallDir: "kernels/bpf-next" }
//
// Fields: KernelInstallDir (required), a directory made by
// `make INSTALL_PATH=dir/boot INSTALL_MOD_PATH=dir install modules_install`,
// relative to the images file's directory, holding exactly one
// boot/vmlinuz-*. Its boot/ is copied to /boot, its lib/modules to
// /lib/modules, and /vmlinuz links to the kernel. Its content is part of the
// build key.
// virt-customize: --copy-in DIR/boot:/ --copy-in DIR/lib/modules:/lib/ --link /boot/KERNEL:/vmlinuz.
import * as path from "node:path";
import { z } from "zod";
import { comment, defineAction, hostPath } from "./fields";

export const installKernel = defineAction({
  type: "install-kernel",
  lvhFields: { KernelInstallDir: "kernelInstallDir" },
  /**
   * Installs a kernel from a local install directory (as made by `make INSTALL_PATH=dir/boot
   * INSTALL_MOD_PATH=dir install modules_install`): copies its `boot/` to `/boot` and
   * `lib/modules` to `/lib/modules`, and links `/vmlinuz` to the kernel.
   * @example { type: "install-kernel", kernelInstallDir: "kernels/bpf-next" }
   */
  schema: z.object({ type: z.literal("install-kernel"), comment, kernelInstallDir: hostPath("kernelInstallDir") }).strict(),
  localPaths: [{ field: "kernelInstallDir", throughLinks: true }],
  customizeArgs: (a, ctx) => {
    const dir = ctx.resolve(a.kernelInstallDir);
    return [
      ["--copy-in", `${path.join(dir, "boot")}:/`],
      ["--copy-in", `${path.join(dir, "lib", "modules")}:/lib/`],
      ["--link", `/boot/${ctx.kernelIn(dir)}:/vmlinuz`],
    ];
  },
  guestOps: (a, ctx) => {
    const dir = ctx.resolve(a.kernelInstallDir);
    return [
      { op: "copy-in", from: path.join(dir, "boot"), into: "/" },
      { op: "copy-in", from: path.join(dir, "lib", "modules"), into: "/lib" },
      { op: "exec", argv: ["ln", "-sf", `/boot/${ctx.kernelIn(dir)}`, "/vmlinuz"] },
    ];
  },
});
