#!/bin/bash
# Builds one of the two packages, each with its program, its systemd unit, its
# system user and its settings file:
#   relais      the box (the SD image installs it): amd64 natively, arm64 cross-compiled;
#               built with RELAIS_BUILD_HUB=OFF, so it needs no libpq.
#   relais-hub  the gateway (SQLite or PostgreSQL through libpq): amd64.
#   image/deb/build-deb.sh amd64|arm64 [relais|relais-hub]   → prints the path of the .deb
set -euo pipefail
arch=${1:-$(dpkg --print-architecture)}
package=${2:-relais}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
out=${IMAGE_OUT:-$src/build-image}
mkdir -p "$out"
case "$arch" in
  amd64) cmake_args=(); strip=strip; triplet=x86_64-linux-gnu ;;
  arm64) cmake_args=(-DCMAKE_TOOLCHAIN_FILE="$here/aarch64-toolchain.cmake"); strip=aarch64-linux-gnu-strip
         triplet=aarch64-linux-gnu ;;
  *) echo "unknown architecture $arch" >&2; exit 2 ;;
esac
case "$package" in
  relais) build=$out/deb-build-$arch; cmake_args+=(-DRELAIS_BUILD_HUB=OFF) ;;
  relais-hub)
    # libpq-dev is not multi-arch in bookworm, so there is no arm64 cross build of the gateway.
    [ "$arch" = amd64 ] || { echo "relais-hub is packaged for amd64 only" >&2; exit 2; }
    build=$out/deb-hub-build-$arch; cmake_args+=(-DRELAIS_BUILD_HUB=ON) ;;
  *) echo "unknown package $package (relais or relais-hub)" >&2; exit 2 ;;
esac
# RELAIS_PREBUILT: package this binary instead of building one (it must be for $arch).
binary=${RELAIS_PREBUILT:-$build/$package}
if [ -z "${RELAIS_PREBUILT:-}" ]; then
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release "${cmake_args[@]}" >/dev/null
  cmake --build "$build" -j "${JOBS:-2}" --target "$package" >&2
fi
version=$(sed -n 's/^project(relais VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")

stage=$build/stage
rm -rf "$stage"
mkdir -p "$build"
install -D -m 0755 "$binary" "$stage/usr/bin/$package"
$strip --strip-unneeded "$stage/usr/bin/$package"
install -D -m 0644 "$here/$package.service" "$stage/lib/systemd/system/$package.service"
install -D -m 0644 "$here/$package.sysusers" "$stage/usr/lib/sysusers.d/$package.conf"
install -D -m 0644 "$src/README.md" "$stage/usr/share/doc/$package/README.md"
mkdir -p "$stage/DEBIAN"
if [ "$package" = relais ]; then
  install -D -m 0644 "$here/relais.default" "$stage/etc/default/relais"
  install -D -m 0644 "$src/docs/api.md" "$stage/usr/share/doc/relais/api.md"
  echo /etc/default/relais > "$stage/DEBIAN/conffiles"
  user_home=/var/lib/relais
  description="offline-first school server (homework, courses, hand-ins)
 Relais serves a school's homework, course material and students' hand-ins
 over HTTP from a small box on the school's own Wi-Fi, and syncs with the
 school's online workspace when a connection is there."
else
  # The settings may name the PostgreSQL URL: readable by root and the service's group only
  # (postinst gives the file to group relais-hub).
  install -D -m 0640 "$here/relais-hub.conf" "$stage/etc/relais-hub/relais-hub.conf"
  for doc in configuration.md hub-api.md hub-storage.md sync.md; do
    install -D -m 0644 "$src/docs/$doc" "$stage/usr/share/doc/relais-hub/$doc"
  done
  echo /etc/relais-hub/relais-hub.conf > "$stage/DEBIAN/conffiles"
  user_home=/var/lib/relais-hub
  description="gateway the Relais school boxes sync with
 relais-hub is run by the académie or the ENT operator: Relais boxes enrol
 with it and sync their schools' work through it, online or by USB stick,
 and the ENT publishes to the boxes and fetches their hand-ins through it.
 It stores in SQLite, or in PostgreSQL for several processes side by side."
fi

# Dependencies: the Debian package of each shared library the binary needs,
# found through dpkg's file lists (works for a cross-built binary too).
deps=""
for lib in $(objdump -p "$stage/usr/bin/$package" | awk '/NEEDED/ {print $2}'); do
  pkg=$(dpkg -S "/usr/lib/$triplet/$lib" "/lib/$triplet/$lib" 2>/dev/null | head -1 | cut -d: -f1) || true
  [ -n "$pkg" ] || { echo "no package ships $lib for $arch" >&2; exit 1; }
  ver=$(dpkg-query -W -f='${Version}' "$pkg:$arch" 2>/dev/null || dpkg-query -W -f='${Version}' "$pkg")
  upstream=${ver%%-*}; upstream=${upstream#*:}
  case " $deps " in *" $pkg "*) ;; *) deps="$deps $pkg (>= $upstream)," ;; esac
done
cat > "$stage/DEBIAN/control" <<CONTROL
Package: $package
Version: $version
Architecture: $arch
Maintainer: Relais <relais@ecole.invalid>
Section: web
Priority: optional
Depends:${deps%,}, adduser | systemd (>= 252)
Installed-Size: $(du -sk "$stage" | cut -f1)
Homepage: file:///usr/share/doc/$package/README.md
Description: $description
CONTROL
# The gateway's settings file goes to its group (unless the administrator set an override).
give_conf=""
[ "$package" = relais-hub ] && give_conf="  dpkg-statoverride --list /etc/relais-hub/relais-hub.conf >/dev/null ||
    chgrp relais-hub /etc/relais-hub/relais-hub.conf"
cat > "$stage/DEBIAN/postinst" <<SCRIPT
#!/bin/sh
set -e
if [ "\$1" = configure ]; then
  systemd-sysusers $package.conf 2>/dev/null || getent passwd $package >/dev/null ||
    adduser --system --group --home $user_home --no-create-home $package
$give_conf
  deb-systemd-helper unmask $package.service >/dev/null || true
  deb-systemd-helper enable $package.service >/dev/null || true
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
    deb-systemd-invoke restart $package.service >/dev/null || true
  fi
fi
SCRIPT
cat > "$stage/DEBIAN/prerm" <<SCRIPT
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "\$1" = remove ]; then
  deb-systemd-invoke stop $package.service >/dev/null || true
fi
SCRIPT
cat > "$stage/DEBIAN/postrm" <<SCRIPT
#!/bin/sh
set -e
if [ "\$1" = remove ] || [ "\$1" = purge ]; then
  [ -d /run/systemd/system ] && systemctl daemon-reload >/dev/null || true
  deb-systemd-helper purge $package.service >/dev/null || true
fi
# The data in $user_home is kept, even on purge: delete it by hand.
SCRIPT
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"
deb=$out/${package}_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
echo "$deb"
