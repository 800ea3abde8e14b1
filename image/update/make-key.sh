#!/bin/sh
# Creates the Ed25519 key pair that signs USB updates, in DIR, unless it exists.
# Keep DIR/update-key.pem secret (offline); only update-key.pub goes in images.
set -eu
dir=${1:?usage: $0 DIR}
mkdir -p "$dir"
if [ ! -f "$dir/update-key.pem" ]; then
  (umask 077; openssl genpkey -algorithm ed25519 -out "$dir/update-key.pem")
  echo "new update signing key: $dir/update-key.pem" >&2
fi
openssl pkey -in "$dir/update-key.pem" -pubout -out "$dir/update-key.pub"
