#!/bin/bash
# Builds (or reuses) the cached base root file system of the Relais SD image:
# Debian bookworm packages only, no Relais files. The slow part of an image
# build, especially for arm64 (qemu-user emulation), so its tarball is cached
# under build-image/cache/ keyed by a hash of this script.
#   image/base.sh amd64|arm64   → prints the path of the tarball
set -euo pipefail
arch=${1:?usage: $0 amd64|arm64}
here=$(cd "$(dirname "$0")" && pwd)
out=${IMAGE_OUT:-$here/../build-image}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# What the box runs. The relais .deb's own dependencies are listed too so the
# customise stage installs it with dpkg alone, without network.
common="systemd systemd-sysv udev dbus kmod iproute2 nftables hostapd dnsmasq avahi-daemon iw wireless-regdb
        initramfs-tools e2fsprogs fdisk dosfstools util-linux procps openssl
        libcpp-httplib0.11 libsqlite3-0 libsodium23 libzstd1 libssl3 zlib1g libbrotli1
        libqrencode4"  # no libpq5: the box does not link PostgreSQL's client (relais-hub does)
case "$arch" in
  # Raspberry Pi 3B+/4/400: Debian's arm64 kernel, the Pi boot firmware and the Wi-Fi firmware.
  arm64) pkgs="$common linux-image-arm64 raspi-firmware firmware-brcm80211" ;;
  # The test variant: booted under QEMU/KVM. qemu-guest-agent lets the test run commands
  # inside; wpasupplicant, busybox (udhcpc) and curl play the simulated tablet.
  amd64) pkgs="$common linux-image-amd64 qemu-guest-agent wpasupplicant busybox curl" ;;
  *) echo "unknown architecture $arch" >&2; exit 2 ;;
esac

key=$( (cat "$0"; echo "$arch") | sha256sum | cut -c1-16)
tarball=$out/cache/base-$arch-$key.tar
if [ -s "$tarball" ]; then echo "$tarball"; exit 0; fi
mkdir -p "$out/cache"
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
  # Foreign architecture through qemu-user: binfmt_misc must be mounted and the handler on.
  [ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  update-binfmts --enable "qemu-$( [ "$arch" = arm64 ] && echo aarch64 || echo "$arch")" >/dev/null 2>&1 || true
fi

# raspi-firmware reads /etc/default/raspi-firmware* when the kernel is installed: it
# must not probe the build machine. Set them before any package is unpacked.
setup_hook='mkdir -p "$1/etc/default" && cp -r '"$here"'/rootfs-'"$arch"'/etc/default/. "$1/etc/default/" 2>/dev/null || true'
# Build the initramfs once, at the end, not at every kernel/firmware trigger (7 min each
# under emulation): update-initramfs is diverted to true while packages install.
essential_hook='chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs && ln -s /bin/true "$1/usr/sbin/update-initramfs"'
customize_hook='rm "$1/usr/sbin/update-initramfs" && chroot "$1" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs && for v in $(ls "$1/lib/modules"); do chroot "$1" update-initramfs -c -k "$v"; done && rm -rf "$1/var/cache/apt/archives/"*.deb "$1/var/lib/apt/lists/"*_Packages*'

start=$(date +%s)
# force-confold: keep the /etc/default files put in place above when a package ships its own.
mmdebstrap --variant=minbase --architectures="$arch" --components="main non-free-firmware" \
  --dpkgopt=force-confold --dpkgopt=force-confdef \
  --include="$(echo $pkgs | tr ' ' ',')" \
  --setup-hook="$setup_hook" --essential-hook="$essential_hook" --customize-hook="$customize_hook" \
  bookworm "$tarball.part.tar" \
  "deb $mirror bookworm main non-free-firmware" \
  "deb $mirror bookworm-updates main non-free-firmware" \
  "deb $security bookworm-security main non-free-firmware" >&2
mv "$tarball.part.tar" "$tarball"
echo "base $arch built in $(( $(date +%s) - start )) s" >&2
echo "$tarball"
