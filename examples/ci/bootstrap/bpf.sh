#!/bin/sh
# BPF test VMs: JIT on, kernel pointers visible to root, and a results dir.
set -e
cat > /etc/sysctl.d/80-bpf-tests.conf <<'CONF'
net.core.bpf_jit_enable = 1
kernel.kptr_restrict = 0
kernel.unprivileged_bpf_disabled = 1
CONF
mkdir -p /root/results
