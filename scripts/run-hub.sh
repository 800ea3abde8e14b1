#!/bin/sh
# `make run-hub`: serves a demo gateway (SQLite in DIR) with one school, after
# printing what an operator does next: enrol a box, add a school, make codes.
#   scripts/run-hub.sh RELAIS_HUB_BINARY DIR ADDR:PORT [BOX_BINARY BOX_DIR]
set -eu
hub=$1 data=$2 listen=$3 box=${4:-build/relais} box_data=${5:-./data}
school=$("$hub" school list --data "$data" | head -n 1 | cut -d ' ' -f 1)
[ -n "$school" ] || school=$("$hub" school add --data "$data" "École de démonstration")
# (its note on stderr is said again below; on failure, run it again to show why)
code=$("$hub" enrol-code --data "$data" --school "$school" 2>/dev/null) ||
  { "$hub" enrol-code --data "$data" --school "$school"; exit 1; }
cat <<TEXT
Demo gateway — store: SQLite in $data — school $school

A one-time enrolment code for one box (valid 7 days): $code
  enrol the box of \`make run\`:  $box sync enrol --data $box_data --hub http://$listen --code $code --allow-http
  (the running box then syncs by itself every 5 minutes, sooner after a change)
Operator's commands (while the gateway serves):
  add a school:   $hub school add --data $data "NAME"      (prints its id)
  more codes:     $hub enrol-code --data $data --school ID [--count N]
  the schools:    $hub school list --data $data
  a school's boxes: $hub box list --data $data --school ID
Settings: docs/configuration.md — the API: docs/hub-api.md

TEXT
exec "$hub" serve --data "$data" --listen "$listen"
