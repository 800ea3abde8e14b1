#!/bin/sh
# Makes a signed USB update: copy OUT_DIR's two files to the root of a USB stick.
#   image/update/make-update.sh KEY.pem OUT_DIR relais_X_arm64.deb [more .deb]
# relais-update.tar holds the .deb files; relais-update.tar.sig is its Ed25519
# signature, checked by the box (/usr/lib/relais-box/update.sh) before anything else.
set -eu
key=${1:?usage: $0 KEY.pem OUT_DIR FILE.deb...}; outdir=${2:?}; shift 2
mkdir -p "$outdir"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for deb in "$@"; do cp "$deb" "$tmp/"; done
tar -C "$tmp" --sort=name --owner=0 --group=0 --mtime=@0 -cf "$outdir/relais-update.tar" .
openssl pkeyutl -sign -inkey "$key" -rawin -in "$outdir/relais-update.tar" -out "$outdir/relais-update.tar.sig"
echo "$outdir/relais-update.tar"
