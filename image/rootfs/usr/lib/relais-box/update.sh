#!/bin/sh
# Installs a signed update from a USB stick (started by udev when one is plugged in).
#   update.sh /dev/sdX1
# 1. The stick is mounted read-only; relais-update.tar must carry a valid
#    Ed25519 signature (relais-update.tar.sig) from the key in
#    /etc/relais/update-key.pub, or nothing happens.
# 2. The school's databases are copied aside (files are content-addressed and
#    never rewritten), the root is remounted read-write only while dpkg runs.
# 3. The new server must answer its health check within two minutes; otherwise
#    the previous .deb and the database copies are put back.
# The result goes to relais-update-resultat.txt on the stick.
set -eu
dev=${1:?usage: $0 DEVICE}
usb=/run/relais-usb; work=/run/relais-update; keep=/data/system/updates
mkdir -p "$usb" "$work" "$keep"
mount -o ro "$dev" "$usb"
cleanup() { umount "$usb" 2>/dev/null || true; rm -rf "$work"; mount -o remount,ro / 2>/dev/null || true; }
trap cleanup EXIT
result() {
  echo "$1"
  mount -o remount,rw "$usb" 2>/dev/null && { printf '%s %s\n' "$(date -u +%FT%TZ)" "$1" >> "$usb/relais-update-resultat.txt"; sync; } || true
}
[ -f "$usb/relais-update.tar" ] || exit 0
if ! openssl pkeyutl -verify -pubin -inkey /etc/relais/update-key.pub -rawin \
       -in "$usb/relais-update.tar" -sigfile "$usb/relais-update.tar.sig" >/dev/null 2>&1; then
  result "refusé : signature invalide"; exit 1
fi
tar -C "$work" -xf "$usb/relais-update.tar"
ls "$work"/*.deb >/dev/null 2>&1 || { result "refusé : aucun paquet"; exit 1; }

healthy() {
  for _ in $(seq 120); do
    curl -fsS -o /dev/null --max-time 2 http://127.0.0.1/api/v1/health 2>/dev/null && return 0
    sleep 1
  done
  return 1
}
# What to go back to: the last installed update, else the image's own package.
previous=$(ls "$keep"/current/*.deb 2>/dev/null || ls /usr/lib/relais-box/factory/*.deb)
systemctl stop relais.service
rm -rf "$keep/db-backup"; mkdir -p "$keep/db-backup"
cp -a /data/relais/*.db* "$keep/db-backup/" 2>/dev/null || true
sync
mount -o remount,rw /
if dpkg -i "$work"/*.deb && sync && mount -o remount,ro / && systemctl restart relais.service && healthy; then
  rm -rf "$keep/previous"; [ -d "$keep/current" ] && mv "$keep/current" "$keep/previous"
  mkdir -p "$keep/current"; cp "$work"/*.deb "$keep/current/"; sync
  result "installé : $(cd "$work" && ls *.deb | tr '\n' ' ')"
else
  systemctl stop relais.service || true
  mount -o remount,rw / || true
  dpkg -i $previous || true
  sync; mount -o remount,ro / || true
  cp -a "$keep/db-backup/." /data/relais/ && chown -R relais:relais /data/relais
  systemctl restart relais.service
  result "échec : version précédente remise en place"
  exit 1
fi
