#!/bin/sh
# Network test VMs: sysctls that the datapath tests expect, applied at boot.
set -e
cat > /etc/sysctl.d/80-net-tests.conf <<'CONF'
net.ipv4.conf.all.rp_filter = 0
net.ipv4.conf.default.rp_filter = 0
net.core.bpf_jit_enable = 1
CONF
mkdir -p /root/results
