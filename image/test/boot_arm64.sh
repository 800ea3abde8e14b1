#!/bin/bash
# Boots the arm64 image once under qemu-system-aarch64 -M virt (software
# emulation, slow) to show its userland starts: the app must answer its health
# check through a forwarded port. QEMU cannot run the Pi's boot firmware, so
# this boots Debian's generic arm64 kernel and initramfs from the image directly.
#   image/test/boot_arm64.sh [build-image]
set -euo pipefail
out=${1:-build-image}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp /tmp/relais-arm64-console.XXXXXX)
t0=$(date +%s)
qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1024 \
  -kernel "$out/arm64/vmlinuz" -initrd "$out/arm64/initrd.img" \
  -append "root=LABEL=relais-root ro console=ttyAMA0 net.ifnames=0" \
  -drive if=none,file="$out/relais-arm64.img",id=disk,format=raw,snapshot=on -device virtio-blk-pci,drive=disk \
  -nic "user,model=virtio-net-pci,net=10.42.0.0/24,host=10.42.0.2,dhcpstart=10.42.0.60,restrict=on,hostfwd=tcp:127.0.0.1:$port-10.42.0.1:80" \
  -device virtio-rng-pci -display none -serial "file:$log" &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT
for _ in $(seq 1800); do
  if body=$(curl -fsS --max-time 3 "http://127.0.0.1:$port/api/v1/health" 2>/dev/null); then
    echo "arm64 box answered after $(( $(date +%s) - t0 )) s (emulated): $body"
    grep -m1 "Linux version" "$log" || true
    echo "1 passed, 0 failed"
    exit 0
  fi
  kill -0 $qemu 2>/dev/null || break
  sleep 2
done
echo "the arm64 box did not answer; end of its console ($log):"
tail -40 "$log"
echo "0 passed, 1 failed"
exit 1
