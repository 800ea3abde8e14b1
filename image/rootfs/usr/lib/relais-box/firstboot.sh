#!/bin/sh
# First boot of a Relais box: creates its secrets and applies relais-setup.txt.
#
# Per-box secrets, never shared and never derived from the hardware: the Wi-Fi
# passphrase (unless relais-setup.txt gives one) and the app's setup code (made
# by `relais serve` itself while the school has no administrator). The
# technician's relais-setup.txt on the FAT partition (school name, Wi-Fi name
# and passphrase, admin login and password) is read, applied, then overwritten
# and deleted; relais-resultat.txt there says what was done, without secrets.
# Runs again at the next boot if it did not finish (a power cut): every step
# can be repeated.
set -eu
umask 077
sys=/data/system
data=/data/relais
boot=/run/relais-boot
mkdir -p "$sys" "$boot"
install -d -o relais -g relais -m 0750 "$data"

# key = value, the last one wins; spaces around and a trailing CR removed.
setting() {
  [ -f "$boot/relais-setup.txt" ] || return 0
  sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$boot/relais-setup.txt" | tr -d '\r' |
    sed 's/[[:space:]]*$//' | tail -n 1
}
# Random text from an alphabet without look-alikes (no 0/o, 1/l/i).
random_text() { tr -dc 'abcdefghjkmnpqrstuvwxyz23456789' </dev/urandom | head -c "$1"; }

mounted=""
if mount -o rw,umask=0077 LABEL=RELAIS-BOOT "$boot" 2>/dev/null; then mounted=1; fi

school=$(setting ecole)
ssid=$(setting wifi_nom)
pass=$(setting wifi_mot_de_passe)
admin=$(setting admin_identifiant)
admin_pass=$(setting admin_mot_de_passe)
report=""
note() { report="$report$1
"; echo "$1"; }

# Wi-Fi: name and passphrase, kept from an earlier unfinished run if there is one.
if [ -z "$ssid" ] && [ -f "$sys/wifi-name" ]; then ssid=$(cat "$sys/wifi-name"); fi
[ -n "$ssid" ] || ssid="Relais-$(random_text 4)"
ssid=$(printf '%s' "$ssid" | head -c 32)
if [ -n "$pass" ] && { [ ${#pass} -lt 8 ] || [ ${#pass} -gt 63 ]; }; then
  note "Le mot de passe Wi-Fi doit faire de 8 à 63 caractères : un autre a été choisi."
  pass=""
fi
if [ -z "$pass" ] && [ -f "$sys/wifi-passphrase" ]; then pass=$(cat "$sys/wifi-passphrase"); fi
if [ -z "$pass" ]; then
  r=$(random_text 16)
  pass=$(echo "$r" | sed 's/\(....\)\(....\)\(....\)\(....\)/\1-\2-\3-\4/')
fi
printf '%s' "$ssid" > "$sys/wifi-name"
printf '%s' "$pass" > "$sys/wifi-passphrase"
sed -e "s|@SSID@|$(printf '%s' "$ssid" | sed 's/[|&\\]/\\&/g')|" \
    -e "s|@PASSPHRASE@|$(printf '%s' "$pass" | sed 's/[|&\\]/\\&/g')|" \
    /usr/lib/relais-box/hostapd.conf.in > "$sys/hostapd.conf.new"
mv "$sys/hostapd.conf.new" "$sys/hostapd.conf"
note "Wi-Fi : $ssid"
# For the installation page (http://installation.lan/installation, from the Ethernet port only):
# the app shows this file to the technician, with the setup code while it is pending.
printf 'Wi-Fi : %s\nMot de passe Wi-Fi : %s\n' "$ssid" "$pass" > "$data/installation.txt.new"
chown relais:relais "$data/installation.txt.new"
mv "$data/installation.txt.new" "$data/installation.txt"

# The app: the school's name and its first administrator, through the CLI.
as_relais() { runuser -u relais -- /usr/bin/relais "$@"; }
if [ -n "$school" ]; then
  as_relais school name --data "$data" --name "$school" >/dev/null && note "École : $school"
fi
if [ -n "$admin_pass" ]; then
  admin=${admin:-admin}
  if as_relais user list --data "$data" | awk '{print $1}' | grep -qx -- "$admin"; then
    note "Administrateur : $admin (existait déjà)"
  elif printf '%s\n' "$admin_pass" | as_relais user add --data "$data" --login "$admin" --role admin \
         --display-name "Administrateur" --password-stdin >/dev/null 2>"$sys/admin-error"; then
    note "Administrateur : $admin"
  else
    note "Administrateur non créé ($(cat "$sys/admin-error")) : utilisez le code d'installation."
  fi
fi

if [ -n "$mounted" ]; then
  if [ -f "$boot/relais-setup.txt" ]; then
    # Overwrite before deleting, so the passwords are not left in free clusters.
    size=$(stat -c %s "$boot/relais-setup.txt")
    head -c "$size" /dev/zero > "$boot/relais-setup.txt"
    sync
    rm -f "$boot/relais-setup.txt"
    note "relais-setup.txt appliqué puis effacé."
  fi
  printf 'Boîte Relais — première mise en route, %s\n%s' "$(date -u +%FT%TZ)" "$report" > "$boot/relais-resultat.txt"
  sync
  umount "$boot"
fi
touch "$sys/firstboot-done"
sync
