#!/bin/sh
# In the image, the last step of its build (both backends): no ssh host keys
# baked in, so that no two machines made from one image share them. Where
# openssh-server is installed (/usr/sbin/sshd), its host keys are removed,
# and two systemd files are written:
#
#   vm-images-ssh-host-keys.service: at boot, while a host key is missing,
#     `ssh-keygen -A` makes the missing ones, before ssh.service (whose
#     ExecStartPre, `sshd -t`, fails without them) and ssh.socket; wanted by
#     both through links in their .wants directories.
#   ssh.service.d/vm-images-host-keys.conf: once sshd has started, the
#     fingerprints of the host keys it uses (`sshd -T`) on the console, one
#     "sshd: host key BITS SHA256:... COMMENT (TYPE)" line each, then
#     "sshd: started with N host keys", at every boot (what the boot check
#     waits for).
#
# Prints "sshd" or "no sshd". Idempotent; without sshd it changes nothing.
set -eu
if [ ! -e /usr/sbin/sshd ] && [ ! -L /usr/sbin/sshd ]; then echo "no sshd"; exit 0; fi
rm -f /etc/ssh/ssh_host_*key*
units=/etc/systemd/system
unit=vm-images-ssh-host-keys.service
mkdir -p "$units/ssh.service.wants" "$units/ssh.socket.wants" "$units/ssh.service.d"
cat > "$units/$unit" <<'EOF'
[Unit]
Description=Generate this machine's missing ssh host keys
Documentation=man:ssh-keygen(1)
DefaultDependencies=no
After=local-fs.target
Before=ssh.service ssh.socket shutdown.target
Conflicts=shutdown.target
ConditionFileIsExecutable=/usr/bin/ssh-keygen
ConditionPathExists=|!/etc/ssh/ssh_host_rsa_key
ConditionPathExists=|!/etc/ssh/ssh_host_ecdsa_key
ConditionPathExists=|!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
StandardOutput=journal+console

[Install]
WantedBy=ssh.service ssh.socket
EOF
cat > "$units/ssh.service.d/vm-images-host-keys.conf" <<'EOF'
# Once sshd has started: the fingerprints of its host keys on the console.
[Service]
ExecStartPost=-/bin/sh -c '{ n=0; for k in $$(/usr/sbin/sshd -T | sed -n "s/^hostkey //p"); do echo "sshd: host key $$(ssh-keygen -l -f "$$k")"; n=$$((n + 1)); done; echo "sshd: started with $$n host keys"; } > /dev/console'
EOF
chmod 644 "$units/$unit" "$units/ssh.service.d/vm-images-host-keys.conf"
ln -sfn "$units/$unit" "$units/ssh.service.wants/$unit"
ln -sfn "$units/$unit" "$units/ssh.socket.wants/$unit"
echo "sshd"
