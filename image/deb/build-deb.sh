#!/bin/bash
# Builds build-image/relais_<version>_<arch>.deb: the server, its systemd unit,
# its system user and its defaults. amd64 natively, arm64 cross-compiled.
#   image/deb/build-deb.sh amd64|arm64   → prints the path of the .deb
set -euo pipefail
arch=${1:-$(dpkg --print-architecture)}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
out=${IMAGE_OUT:-$src/build-image}
build=$out/deb-build-$arch
mkdir -p "$out"
case "$arch" in
  amd64) cmake_args=(); strip=strip; triplet=x86_64-linux-gnu ;;
  arm64) cmake_args=(-DCMAKE_TOOLCHAIN_FILE="$here/aarch64-toolchain.cmake"); strip=aarch64-linux-gnu-strip
         triplet=aarch64-linux-gnu ;;
  *) echo "unknown architecture $arch" >&2; exit 2 ;;
esac
# RELAIS_PREBUILT: package this binary instead of building one (it must be for $arch).
binary=${RELAIS_PREBUILT:-$build/relais}
if [ -z "${RELAIS_PREBUILT:-}" ]; then
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release "${cmake_args[@]}" >/dev/null
  cmake --build "$build" -j "${JOBS:-2}" --target relais >&2
fi
version=$(sed -n 's/^project(relais VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")

stage=$build/stage
rm -rf "$stage"
mkdir -p "$build"
install -D -m 0755 "$binary" "$stage/usr/bin/relais"
$strip --strip-unneeded "$stage/usr/bin/relais"
install -D -m 0644 "$here/relais.service" "$stage/lib/systemd/system/relais.service"
install -D -m 0644 "$here/relais.sysusers" "$stage/usr/lib/sysusers.d/relais.conf"
install -D -m 0644 "$here/relais.default" "$stage/etc/default/relais"
install -D -m 0644 "$src/README.md" "$stage/usr/share/doc/relais/README.md"
install -D -m 0644 "$src/docs/api.md" "$stage/usr/share/doc/relais/api.md"
mkdir -p "$stage/DEBIAN"
echo /etc/default/relais > "$stage/DEBIAN/conffiles"

# Dependencies: the Debian package of each shared library the binary needs,
# found through dpkg's file lists (works for a cross-built binary too).
deps=""
for lib in $(objdump -p "$stage/usr/bin/relais" | awk '/NEEDED/ {print $2}'); do
  pkg=$(dpkg -S "/usr/lib/$triplet/$lib" "/lib/$triplet/$lib" 2>/dev/null | head -1 | cut -d: -f1) || true
  [ -n "$pkg" ] || { echo "no package ships $lib for $arch" >&2; exit 1; }
  ver=$(dpkg-query -W -f='${Version}' "$pkg:$arch" 2>/dev/null || dpkg-query -W -f='${Version}' "$pkg")
  upstream=${ver%%-*}; upstream=${upstream#*:}
  case " $deps " in *" $pkg "*) ;; *) deps="$deps $pkg (>= $upstream)," ;; esac
done
cat > "$stage/DEBIAN/control" <<CONTROL
Package: relais
Version: $version
Architecture: $arch
Maintainer: Relais <relais@ecole.invalid>
Section: web
Priority: optional
Depends:${deps%,}, adduser | systemd (>= 252)
Installed-Size: $(du -sk "$stage" | cut -f1)
Homepage: file:///usr/share/doc/relais/README.md
Description: offline-first school server (homework, courses, hand-ins)
 Relais serves a school's homework, course material and students' hand-ins
 over HTTP from a small box on the school's own Wi-Fi, and syncs with the
 school's online workspace when a connection is there.
CONTROL
cat > "$stage/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  systemd-sysusers relais.conf 2>/dev/null || getent passwd relais >/dev/null ||
    adduser --system --group --home /var/lib/relais --no-create-home relais
  deb-systemd-helper unmask relais.service >/dev/null || true
  deb-systemd-helper enable relais.service >/dev/null || true
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
    deb-systemd-invoke restart relais.service >/dev/null || true
  fi
fi
SCRIPT
cat > "$stage/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
  deb-systemd-invoke stop relais.service >/dev/null || true
fi
SCRIPT
cat > "$stage/DEBIAN/postrm" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = remove ] || [ "$1" = purge ]; then
  [ -d /run/systemd/system ] && systemctl daemon-reload >/dev/null || true
  deb-systemd-helper purge relais.service >/dev/null || true
fi
# The school's data in /var/lib/relais is kept, even on purge: delete it by hand.
SCRIPT
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"
deb=$out/relais_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
echo "$deb"
