#!/bin/sh
# Installs the Debian packages a task needs, only those missing, as root or through sudo.
#   scripts/install-deps.sh build   — compiler, CMake and the -dev libraries (libzbar-dev: the tests
#                                     decode the login cards' QR codes)
#   scripts/install-deps.sh bench   — wrk and nginx for the benchmarks
#   scripts/install-deps.sh ci      — what CI needs beyond the build (clang-format)
#   scripts/install-deps.sh image   — the SD image: mmdebstrap, genimage, QEMU, the arm64
#                                     cross-compiler and arm64 -dev libraries (dpkg multiarch)
#   scripts/install-deps.sh pg      — PostgreSQL's server, which the gateway's tests start on loopback
#   scripts/install-deps.sh e2e     — Chromium, Node.js and npm for the end-to-end tests
#   scripts/install-deps.sh fuzz    — clang and its libFuzzer/sanitizer runtimes (scripts/fuzz.sh)
set -eu
case "${1:-build}" in
  build) pkgs="g++ cmake make pkg-config libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev
               libsqlite3-dev libsodium-dev libzstd-dev doctest-dev nlohmann-json3-dev
               libqrencode-dev libzbar-dev libpq-dev openssl" ;;  # openssl(1): the HTTPS tests check certificates with it
  bench) pkgs="wrk nginx-light curl python3" ;;
  ci)    pkgs="clang-format" ;;
  pg)    pkgs="postgresql" ;;
  fuzz)  pkgs="clang libclang-rt-14-dev" ;;
  image) pkgs="mmdebstrap genimage debian-archive-keyring arch-test qemu-user-static binfmt-support
               qemu-system-x86 qemu-system-arm dosfstools mtools e2fsprogs fdisk zstd openssl python3
               g++-aarch64-linux-gnu binutils-aarch64-linux-gnu
               libsqlite3-dev:arm64 libsodium-dev:arm64 libssl-dev:arm64 zlib1g-dev:arm64
               libbrotli-dev:arm64 libzstd-dev:arm64 libcpp-httplib-dev:arm64 libqrencode-dev:arm64"
         # The cross build makes the box only (RELAIS_BUILD_HUB=OFF): no libpq for arm64.
         if ! dpkg --print-foreign-architectures | grep -qx arm64; then
           if [ "$(id -u)" -eq 0 ]; then dpkg --add-architecture arm64; else sudo dpkg --add-architecture arm64; fi
         fi ;;
  e2e)   pkgs="chromium"
         # Node.js may come from elsewhere (NodeSource, nvm): only install Debian's if there is none.
         command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
         # (playwright-core needs Node.js >= 20; tests/e2e/run.sh says so if it finds an older one.)
         command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm" ;;
  *) echo "usage: $0 build|bench|ci|e2e|fuzz|image|pg" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "Installing missing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends $missing
