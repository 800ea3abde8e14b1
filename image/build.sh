#!/bin/bash
# Builds the Relais SD image: build-image/relais-<arch>.img (+ .img.zst).
#   image/build.sh arm64   Raspberry Pi 3B+/4/400 (relais cross-compiled)
#   image/build.sh amd64   the same box for PCs and for `make image-test` (QEMU/KVM)
# Stages: the relais .deb (image/deb/build-deb.sh), the cached base root file
# system (image/base.sh, Debian packages only), then this script: unpack, add
# image/rootfs*, install the .deb, lock it down, and lay out the card with genimage.
# Needs root (chroot, file ownership); prints how long each stage took.
set -euo pipefail
arch=${1:?usage: $0 amd64|arm64}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
out=${IMAGE_OUT:-$src/build-image}
export IMAGE_OUT=$out
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*" >&2; }

deb=${RELAIS_DEB:-$("$here/deb/build-deb.sh" "$arch")}
stamp "relais package: $deb"
base=$("$here/base.sh" "$arch")
stamp "base root file system: $base"

work=$out/$arch
root=$work/root
rm -rf "$work"
mkdir -p "$root"
tar -C "$root" -xpf "$base"

cp -a "$here/rootfs/." "$root/"
[ -d "$here/rootfs-$arch" ] && cp -a "$here/rootfs-$arch/." "$root/"
# The key that signs USB updates (the private half stays on the build machine).
"$here/update/make-key.sh" "$out/keys" >&2
install -D -m 0644 "$out/keys/update-key.pub" "$root/etc/relais/update-key.pub"
mkdir -p "$root/usr/lib/relais-box/factory"
cp "$deb" "$root/usr/lib/relais-box/factory/"
cp "$deb" "$root/tmp/relais.deb"
chroot "$root" /bin/sh -eu -c '
  # Dependencies the cached base lacks (a newer relais may need more) come from the archive.
  if ! dpkg -i /tmp/relais.deb >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -f --no-install-recommends >/dev/null
    dpkg -s relais >/dev/null
  fi
  rm /tmp/relais.deb
  systemctl unmask hostapd.service >/dev/null 2>&1
  systemctl enable systemd-networkd nftables relais relais-firstboot relais-clock relais-grow-data relais-clock-save.timer \
    hostapd dnsmasq avahi-daemon 2>&1 | grep -v "^Created symlink" || true
  # Nothing may write to the read-only root (systemd-rfkill saves radio states in /var/lib), and
  # nothing else listens.
  systemctl mask ssh.service systemd-random-seed.service systemd-logind.service apt-daily.timer apt-daily-upgrade.timer \
    dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service systemd-timesyncd.service \
    systemd-rfkill.service systemd-rfkill.socket \
    getty@tty1.service serial-getty@ttyS0.service serial-getty@ttyAMA0.service >/dev/null 2>&1
  passwd -l root >/dev/null
  mkdir -p /data /boot/firmware
  ln -sf /data/system/hostapd.conf /etc/hostapd/hostapd.conf
  echo "nameserver 127.0.0.1" > /etc/resolv.conf
  # A per-boot machine id (the root is read-only; no two cards share one).
  : > /etc/machine-id
  rm -f /var/lib/dbus/machine-id
  ln -sf /etc/machine-id /var/lib/dbus/machine-id
'
rm -rf "$root/var/cache/apt/"*.bin "$root/var/lib/apt/lists/"* "$root/var/log/"* "$root/tmp/"*
stamp "root file system customised"

# The FAT partition (/boot/firmware in the tree; genimage keeps it out of the
# root): the Pi's boot files (arm64), a note for the technician, an example
# relais-setup.txt.
mkdir -p "$root/boot/firmware"
cp "$here/relais-setup.txt.exemple" "$here/LISEZMOI.txt" "$root/boot/firmware/"
cp -L "$(ls "$root"/boot/vmlinuz-* | tail -1)" "$work/vmlinuz"
cp -L "$(ls "$root"/boot/initrd.img-* | tail -1)" "$work/initrd.img"

root_mb=$(( $(du -sm "$root" | cut -f1) * 115 / 100 + 64 ))
sed -e "s|@ROOT_MB@|$root_mb|" -e "s|@ARCH@|$arch|" "$here/genimage.cfg" > "$work/genimage.cfg"
rm -rf "$work/genimage-tmp"
genimage --config "$work/genimage.cfg" --rootpath "$root" --tmppath "$work/genimage-tmp" \
  --inputpath "$work" --outputpath "$out" >&2
rm -rf "$work/genimage-tmp"
stamp "disk image laid out"
img=$out/relais-$arch.img
if [ "$arch" = arm64 ] && [ -z "${IMAGE_NO_COMPRESS:-}" ]; then zstd -q -T0 -f -9 "$img" -o "$img.zst"; stamp "compressed: $img.zst"; fi
echo "image $img: $(du -h --apparent-size "$img" | cut -f1) ($( [ -f "$img.zst" ] && du -h "$img.zst" | cut -f1) compressed), built in $(( $(date +%s) - t0 )) s" >&2
echo "$img"
