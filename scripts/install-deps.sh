#!/bin/sh
# Installs the Debian packages a task needs, only those missing, as root or through sudo.
#   scripts/install-deps.sh build   — compiler, CMake and the -dev libraries (libzbar-dev: the tests
#                                     decode the login cards' QR codes)
#   scripts/install-deps.sh bench   — wrk and nginx for the benchmarks
#   scripts/install-deps.sh ci      — what CI needs beyond the build (clang-format)
#   scripts/install-deps.sh e2e     — Chromium, Node.js and npm for the end-to-end tests
set -eu
case "${1:-build}" in
  build) pkgs="g++ cmake make pkg-config libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev
               libsqlite3-dev libsodium-dev libzstd-dev doctest-dev nlohmann-json3-dev
               libqrencode-dev libzbar-dev" ;;
  bench) pkgs="wrk nginx-light curl python3" ;;
  ci)    pkgs="clang-format" ;;
  e2e)   pkgs="chromium"
         # Node.js may come from elsewhere (NodeSource, nvm): only install Debian's if there is none.
         command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
         command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm" ;;
  *) echo "usage: $0 build|bench|ci|e2e" >&2; exit 2 ;;
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
