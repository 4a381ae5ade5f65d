# shellcheck shell=sh
# Environment of test VMs: where tests find their tools and results go.
export VM_TEST_RESULTS=/root/results
export PATH="$PATH:/usr/sbin"
