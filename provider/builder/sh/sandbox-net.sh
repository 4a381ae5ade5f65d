#!/bin/sh
# Print the nftables ruleset of a sandbox's network namespace (sandbox-run.sh
# loads it there before the guest starts; the guest has no CAP_NET_ADMIN to
# change it). Run on the host side, where the host's addresses are seen.
#
#   sandbox-net.sh MODE
#
# MODE: `public` (everything but the ranges below), or `mirror` (nothing but
#   the resolver and the allowed addresses).
# VM_IMAGES_NET_MIRROR: the mirror's addresses, each `ADDRESS,PORT`: allowed
#   on that TCP port whatever the range, even the host's own.
# VM_IMAGES_NET_ALLOW: addresses or CIDRs, allowed on every port whatever
#   the range.
#
# Always refused: the host's own addresses (every interface, v4 and v6),
# loopback, link-local (the cloud metadata service), private and shared
# ranges, multicast and broadcast, 0/8, and slirp4netns's resolver on any
# port but 53. The namespace's own loopback stays: it is the guest's.
# Refused connections fail at once: a TCP reset, else ICMP admin-prohibited.
set -eu
mode=$1
# (Two steps, so that a failing `ip` fails the run rather than leaving the host out.)
host=$(ip -o addr show)
host=$(echo "$host" | awk '{ sub(/\/.*/, "", $4); print $4 }')
v4() { grep -v : || :; }
v6() { grep : || :; }
# `{ a, b }` of the words on stdin, or nothing when there are none.
nftset() { tr -s ' \n' '\n' | grep . | sort -u | paste -sd, | sed 's/^./{ &/; s/.$/& }/'; }
rule() { [ -z "$2" ] || echo "    $1 daddr $2 $3"; }

deny4=$( { echo 0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12 192.168.0.0/16 224.0.0.0/3; echo "$host" | v4; } | nftset)
deny6=$( { echo ::/127 ::ffff:0:0/96 fe80::/10 fc00::/7 ff00::/8; echo "$host" | v6; } | nftset)
allow4=$(echo "${VM_IMAGES_NET_ALLOW:-}" | tr ' ' '\n' | v4 | nftset)
allow6=$(echo "${VM_IMAGES_NET_ALLOW:-}" | tr ' ' '\n' | v6 | nftset)

echo "table inet vm_images_sandbox {"
echo "  chain output {"
echo "    type filter hook output priority 0; policy accept;"
echo "    oif lo accept"
echo "    ip daddr 10.0.2.3 meta l4proto { tcp, udp } th dport 53 accept"
for m in ${VM_IMAGES_NET_MIRROR:-}; do
  case ${m%,*} in *:*) f=ip6 ;; *) f=ip ;; esac
  echo "    $f daddr ${m%,*} tcp dport ${m##*,} accept"
done
rule ip "$allow4" accept
rule ip6 "$allow6" accept
if [ "$mode" = public ]; then
  rule ip "$deny4" "meta l4proto tcp reject with tcp reset"
  rule ip "$deny4" "reject with icmpx type admin-prohibited"
  rule ip6 "$deny6" "meta l4proto tcp reject with tcp reset"
  rule ip6 "$deny6" "reject with icmpx type admin-prohibited"
else
  echo "    meta l4proto tcp reject with tcp reset"
  echo "    reject with icmpx type admin-prohibited"
fi
echo "  }"
echo "}"
